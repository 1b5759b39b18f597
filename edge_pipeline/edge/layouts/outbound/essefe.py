"""ESSEFE (formerly ESESAR), the enrollment summary accept/reject report of an ESES file (spec
section 5).

Root ``enrollmentSummaryAcceptReject`` (assumed, as are all names below the common blocks):
header; counts of the file, the issuer, enrollees and enrollment periods; the issuer with its
year/month member months; error code frequencies; then one block per plan.  ESES has no plan
records, so a plan here is every distinct ``insurancePlanIdentifier`` of the file's enrollment
periods: it has no record identifier, its enrollee counts count each enrollee with a period in
the plan, and its status is A when at least one of its periods was accepted (assumed).

Member months (assumed): each enrollment period counts one member month for every calendar
month it covers on at least one day, from ``coverageStartDate`` to ``coverageEndDate``; a
period whose dates cannot be read (or run backwards) counts none.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.common import FILE_COUNTS, ISSUER_COUNTS
from edge_pipeline.edge.layouts.outbound.model import (
    CountsBlock,
    MemberMonths,
    Recipients,
    Rollup,
    RollupSource,
    ScopeSummary,
    SummaryLayout,
)

ENROLLEE_COUNTS = CountsBlock("includedEnrolleeRecordCounts", "enrollee")
PERIOD_COUNTS = CountsBlock("includedEnrollmentPeriodRecordCounts", "enrollment_period")

ESSEFE = SummaryLayout(
    name="ESSEFE",
    root="enrollmentSummaryAcceptReject",
    submission_type="E",
    file_code="ES",
    counts=(FILE_COUNTS, ISSUER_COUNTS, ENROLLEE_COUNTS, PERIOD_COUNTS),
    issuer=ScopeSummary(
        element="includedIssuer",
        scope_level="issuer",
        record_identifier="issuerRecordIdentifier",
        key="issuerIdentifier",
        counts=(),
        rollup=Rollup(
            "includedIssuerYear", "issuerYear", "includedIssuerMonth", "issuerMonth", MemberMonths()
        ),
        max_occurs=1,
    ),
    plan=ScopeSummary(
        element="includedPlan",
        scope_level="plan",
        record_identifier=None,
        key="planIdentifier",
        counts=(ENROLLEE_COUNTS, PERIOD_COUNTS),
        rollup=Rollup(
            "includedPlanYear", "planYear", "includedPlanMonth", "planMonth", MemberMonths()
        ),
    ),
    source=RollupSource(
        level="enrollment_period",
        table="enrollment_period",
        date_column="coverage_start_date",
        end_column="coverage_end_date",
        plan_column="insurance_plan_identifier",
    ),
    doc="enrollment summary: counts per level, member months per year and month, per plan",
    recipients=Recipients.ISSUER_AND_CMS,
    former_names=("ESESAR",),
)
