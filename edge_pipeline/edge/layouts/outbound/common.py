"""Blocks every Phase 1 outbound report shares (spec section 5), declared once.

The type names (``CommonOutboundFileHeader``, ``SubmissionProcessingStatusType``,
``ErrorMessageType``, ``ClaimCountMessageType``, ``ErrorCodeCounts``) follow the ones public
issuer code uses for these blocks, so each of our XSDs spells a shared block the same way.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import (
    CountsBlock,
    Group,
    Leaf,
    Measure,
    ResultLevel,
    Rollup,
    ScopeSummary,
)

#: ``includedFileHeader``: identifies the report and the inbound file it is about.
FILE_HEADER = Group(
    "includedFileHeader",
    (
        Leaf(
            "outboundFileIdentifier",
            "code",
            doc="unique id of this report",
            column="outbound_file_identifier",
        ),
        Leaf(
            "outboundFileGenerationDateTime",
            "datetime",
            doc="YYYY-MM-DDTHH:MM:SS",
            column="generated_at",
        ),
        Leaf(
            "inboundFileIdentifier",
            "code",
            doc="the inbound fileIdentifier: the link key",
            column="inbound_file_identifier",
        ),
        Leaf("interfaceControlReleaseNumber", "code", doc="NN.NN.NN", column="icd_release"),
        Leaf("edgeServerVersion", column="server_version"),
        Leaf("edgeServerProcessIdentifier", column="server_process_identifier"),
        Leaf("inboundFileGenerationDateTime", "datetime", column="inbound_generated_at"),
        Leaf(
            "outboundFileTypeCode",
            "code",
            doc="two-letter report code of the file name, e.g. MH, MD, MS (assumed)",
            column="file_type_code",
        ),
        Leaf("edgeServerIdentifier", column="server_identifier"),
        Leaf("issuerID", "code", doc="5-digit HIOS issuer id", column="issuer_id"),
        Leaf(
            "inboundFileSubmissionDateTime",
            "datetime",
            doc="when the inbound file was loaded",
            column="inbound_submitted_at",
        ),
        Leaf("inboundFileSubmissionType", "code", doc="E, M, P or S", column="submission_type"),
    ),
    type_name="CommonOutboundFileHeader",
)

#: ``classifyingProcessingStatusType``: accepted or rejected, at file and at record level.
STATUS = Group(
    "classifyingProcessingStatusType",
    (Leaf("statusTypeCode", "code", doc="A accepted, R rejected", column="status"),),
    type_name="SubmissionProcessingStatusType",
)

#: ``recordedError``: one offending element and the errors found on it.  The three lists run in
#: parallel (the n-th code goes with the n-th message and detail).
RECORDED_ERROR = Group(
    "recordedError",
    (
        Leaf(
            "offendingElementName",
            doc="empty when an error concerns no single element",
            column="element",
        ),
        Leaf(
            "offendingElementValue",
            min_occurs=0,
            doc="the value as sent; absent when the element was missing",
            column="value",
        ),
        Leaf(
            "offendingElementErrorTypeCode",
            "code",
            min_occurs=0,
            max_occurs=None,
            column="error_code",
        ),
        Leaf("offendingElementErrorTypeMessage", min_occurs=0, max_occurs=None, column="message"),
        Leaf(
            "offendingElementErrorTypeDetail",
            min_occurs=0,
            max_occurs=None,
            doc="this project's writer puts the check kind here: required, face, referential "
            "or logical (assumed)",
            column="detail",
        ),
    ),
    min_occurs=0,
    max_occurs=None,
    type_name="ErrorMessageType",
)

#: Record counts of one level.  ``recordsResolved`` (previously rejected records now accepted)
#: and ``newRecordsAccepted`` are written by this project as 0 and as the accepted count
#: (assumed): Phase 1 verification of one file does not track earlier submissions.
RECORD_COUNTS = Group(
    "includedRecordCounts",
    (
        Leaf("recordsReceived", "integer", column="received"),
        Leaf("recordsAccepted", "integer", column="accepted"),
        Leaf("recordsResolved", "integer", column="resolved"),
        Leaf("recordsRejected", "integer", column="rejected"),
        Leaf("newRecordsAccepted", "integer", column="new_accepted"),
    ),
    type_name="ClaimCountMessageType",
)

#: ``includedErrorCodeFrequency``: how often each error code occurred in the file.
ERROR_CODE_FREQUENCY = Group(
    "includedErrorCodeFrequency",
    (
        Leaf("offendingElementErrorTypeCode", "code", column="error_code"),
        Leaf("offendingElementErrorTypeCodeFrequency", "integer", column="frequency"),
    ),
    min_occurs=0,
    max_occurs=None,
    type_name="ErrorCodeCounts",
)

#: Counts blocks of the levels every summary has (assumed names: the spec says "record counts
#: per level" without naming the blocks).  The file level counts the file itself (1 received).
FILE_COUNTS = CountsBlock("includedFileRecordCounts", "file")
ISSUER_COUNTS = CountsBlock("includedIssuerRecordCounts", "issuer")
PLAN_COUNTS = CountsBlock("includedPlanRecordCounts", "plan")


def issuer_rollup_summary(measure: Measure) -> ScopeSummary:
    """The issuer block of a claim or supplemental summary: its counts per year and month
    (assumed names, shared by ESSMFE, ESSPFE and ESSSFE)."""
    return ScopeSummary(
        element="includedIssuerSummary",
        scope_level="issuer",
        record_identifier="issuerRecordIdentifier",
        key="issuerIdentifier",
        counts=(),
        rollup=Rollup(
            "includedIssuerYear", "issuerYear", "includedIssuerMonth", "issuerMonth", measure
        ),
        max_occurs=1,
    )


def plan_rollup_summary(measure: Measure, year: str = "planYear") -> ScopeSummary:
    """Each plan's block of a claim or supplemental summary (assumed names; ``year`` differs
    where public issuer code showed another name)."""
    return ScopeSummary(
        element="includedPlanSummary",
        scope_level="plan",
        record_identifier="planRecordIdentifier",
        key="planIdentifier",
        counts=(),
        rollup=Rollup("includedPlanYear", year, "includedPlanMonth", "planMonth", measure),
    )


def issuer_result(child: ResultLevel, assumed: bool = False) -> ResultLevel:
    """The issuer level every detail error report opens with (spec section 5)."""
    return ResultLevel(
        element="includedIssuerProcessingResult",
        level="issuer",
        record_identifier="issuerRecordIdentifier",
        key="issuerIdentifier",
        children=(child,),
        max_occurs=1,
        assumed=assumed,
    )


def plan_result(child: ResultLevel, assumed: bool = False) -> ResultLevel:
    """The plan level of the claim and supplemental detail error reports (spec section 5)."""
    return ResultLevel(
        element="includedPlanProcessingResult",
        level="plan",
        record_identifier="planRecordIdentifier",
        key="insurancePlanIdentifier",
        children=(child,),
        assumed=assumed,
    )
