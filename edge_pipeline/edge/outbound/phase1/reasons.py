"""Why a record was rejected, as far as a detail report shows it.

A detail report states each record's status and its *own* errors, not why an error-free record
was rejected.  ``reported_record_status.rejection_reason`` is therefore derived from the tree
the report describes, with the cascade of spec section 4, so it can be compared with the
shadow's ``rejection_reason`` (docs/phase1-contract.md).  The precedence, first match wins:

1. ``header_rejected`` the file is rejected (the detail report's file status, assumed block);
2. ``own_error``       the record is rejected and has errors of its own;
3. ``<level>_rejected`` the *outermost* ancestor that rejects its whole subtree: one that
   failed itself, or (ESMCS claims) one with a failed child;
4. ``claim_rejected``  (ESMCS) the claim itself, when one of its lines failed;
5. ``all_children_rejected`` every child record is rejected;
6. ``unexplained``     rejected with none of the above: a finding in itself (reported only).

This is the precedence of the verification engine (``verification/cascade.py``); reported and
shadow reasons agree only while the two match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edge_pipeline.edge.layouts.outbound.model import ResultLevel

OWN_ERROR = "own_error"
HEADER_REJECTED = "header_rejected"
ALL_CHILDREN_REJECTED = "all_children_rejected"
UNEXPLAINED = "unexplained"
REJECTED = "R"


@dataclass(eq=False)
class ResultFrame:
    """One processing result being read: what its reason depends on."""

    result: ResultLevel
    parent: ResultFrame | None
    record_identifier: int | None = None
    key: str | None = None
    status: str | None = None
    errors: int = 0
    children: int = 0
    children_rejected: int = 0
    child_failed_self: bool = False
    #: Rows of descendants whose reason waits for this record's end (ESMCS claims: a later
    #: line may still fail and reject its siblings).
    pending: list[tuple[dict[str, Any], ResultFrame]] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return self.status == REJECTED

    @property
    def failed_self(self) -> bool:
        return self.rejected and self.errors > 0

    @property
    def rejects_descendants(self) -> bool:
        """True when this record's rejection rejects every record below it."""
        return self.rejected and (
            self.failed_self or (self.result.rejects_whole_group and self.child_failed_self)
        )

    def ancestors(self) -> list[ResultFrame]:
        """Outermost first."""
        chain: list[ResultFrame] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]

    def waiting_group(self) -> ResultFrame | None:
        """The nearest ancestor whose subtree verdict is not final until it ends."""
        node = self.parent
        while node is not None:
            if node.result.rejects_whole_group:
                return node
            node = node.parent
        return None

    def child_done(self, child: ResultFrame) -> None:
        self.children += 1
        if child.rejected:
            self.children_rejected += 1
        if child.failed_self:
            self.child_failed_self = True


def rejection_reason(frame: ResultFrame, file_rejected: bool) -> str | None:
    """The reason of a finished record (every ancestor's subtree verdict must be final)."""
    if not frame.rejected:
        return None
    if file_rejected:
        return HEADER_REJECTED
    if frame.failed_self:
        return OWN_ERROR
    for ancestor in frame.ancestors():
        if ancestor.rejects_descendants:
            return f"{ancestor.result.level}_rejected"
    if frame.result.rejects_whole_group and frame.child_failed_self:
        return f"{frame.result.level}_rejected"
    if frame.children and frame.children_rejected == frame.children:
        return ALL_CHILDREN_REJECTED
    return UNEXPLAINED
