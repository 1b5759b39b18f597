"""Blocks the Phase 2 risk adjustment reports share (spec section 6), declared once.

The RA reports keep the Phase 1 ``includedFileHeader`` (same element names, spec section 5) and
add what identifies a *scoring run*: ``benefitYear`` and ``executionZoneCode``.  A Phase 1
report states its zone only in its file name; an RA report is a snapshot that replaces the
run's earlier one, so the run key must survive a renamed file.  The extended header is its own
XSD type (``RiskAdjustmentOutboundFileHeader``), so the Phase 1 schemas are untouched.

Every name below the header is this project's (the official ICD is not public): each leaf is
declared ``assumed`` and its XSD annotation says so.
"""

from __future__ import annotations

from dataclasses import replace

from edge_pipeline.edge.layouts.outbound.common import FILE_HEADER
from edge_pipeline.edge.layouts.outbound.model import Group, Leaf, LeafKind, MaxOccurs, Node


def ra_leaf(
    name: str, column: str, kind: LeafKind = "code", *, required: bool = False, doc: str = ""
) -> Leaf:
    """A leaf of an RA report (assumed name).  Optional unless ``required``: an absent element
    is a NULL in the warehouse, an empty one the empty string, so values round-trip exactly."""
    return Leaf(name, kind, min_occurs=1 if required else 0, doc=doc, assumed=True, column=column)


def ra_group(
    name: str,
    children: tuple[Node, ...],
    *,
    min_occurs: int = 0,
    max_occurs: MaxOccurs = None,
    doc: str = "",
) -> Group:
    """A block of an RA report (assumed name), by default a list of zero or more entries."""
    return Group(
        name, children, min_occurs=min_occurs, max_occurs=max_occurs, doc=doc, assumed=True
    )


def _header_leaf(leaf: Node) -> Node:
    if isinstance(leaf, Leaf) and leaf.column == "file_type_code":
        return replace(
            leaf,
            doc="the report's acronym, e.g. RACSD, RATEE or HCRPSR (assumed for RA reports)",
        )
    if isinstance(leaf, Leaf) and leaf.column == "inbound_file_identifier":
        return replace(
            leaf,
            doc="RA reports: fileIdentifier of the run's replacing (latest accepted) ESES, the "
            "enrollment snapshot scored; RA<issuer><zone><year> when none is known (assumed)",
        )
    return leaf


#: ``includedFileHeader`` of an RA report: the Phase 1 header plus the scoring run.
RA_FILE_HEADER = Group(
    FILE_HEADER.name,
    (
        *(_header_leaf(leaf) for leaf in FILE_HEADER.children),
        Leaf(
            "benefitYear",
            "integer",
            doc="benefit year of the scoring run (YYYY)",
            assumed=True,
            column="benefit_year",
        ),
        Leaf(
            "executionZoneCode",
            "code",
            doc="T, P or V: the zone of the scoring run (spec section 2 name)",
            assumed=True,
            column="execution_zone",
        ),
    ),
    type_name="RiskAdjustmentOutboundFileHeader",
    doc="the common header plus the scoring run (benefit year, zone)",
)

# -- leaves several RA reports use ------------------------------------------------------------

MEMBER_ID = "insuredMemberIdentifier"
PLAN_ID = "insurancePlanIdentifier"
RATING_AREA = "ratingAreaIdentifier"
METAL = "metalLevelCode"
MEMBER_MONTHS = "memberMonths"
BILLABLE_MEMBER_MONTHS = "billableMemberMonths"
CLAIM_ID = "claimIdentifier"
FILE_ID = "fileIdentifier"
RECORD_ID = "recordIdentifier"
RECORD_KIND = "recordKindCode"
INCLUDED = "raIncludedIndicator"
REASON = "raExclusionReasonCode"
FACTOR_KIND = "riskFactorTypeCode"
COEFFICIENT = "riskFactorCoefficient"
HCC_ID = "hccIdentifier"
RXC_ID = "rxcIdentifier"
FACTOR_ID = "riskFactorIdentifier"
ENROLLEE_COUNT = "enrolleeCount"


def source_leaves() -> tuple[Leaf, ...]:
    """Where a claim, record, diagnosis or drug code came from: the inbound claim or record id,
    the inbound file and the record's recordIdentifier in it (the Phase 1 link keys)."""
    return (
        ra_leaf(CLAIM_ID, "claim_identifier", doc="claim id, or the supplemental record's id"),
        ra_leaf(FILE_ID, "file_identifier", doc="fileIdentifier of the inbound file"),
        ra_leaf(RECORD_ID, "record_identifier", "integer", doc="recordIdentifier in that file"),
    )


def standard_component_leaf() -> Leaf:
    """The plan of the transfer reports: the 14-character HIOS standard component id (not the
    16-character ``insurancePlanIdentifier`` of the claim and score reports)."""
    return ra_leaf(
        "standardComponentIdentifier",
        "plan_id",
        required=True,
        doc="14-character HIOS standard component id (the plan id without its CSR variant)",
    )


def pool_plan_leaves(*, pool_required: bool = True) -> tuple[Leaf, ...]:
    """State, market risk pool and plan: the key of the transfer reports (RATEE, RAUF, HCRPSR)
    but the rating area.  ``pool_required=False``: state and pool may be absent (a plan known
    only from its claims)."""
    return (
        ra_leaf(
            "stateCode", "state", required=pool_required, doc="two-letter state of the risk pool"
        ),
        ra_leaf(
            "riskPoolCode",
            "risk_pool",
            required=pool_required,
            doc="market risk pool: individual, small_group or catastrophic (catastrophic plans "
            "form their own individual-market pool)",
        ),
        standard_component_leaf(),
    )
