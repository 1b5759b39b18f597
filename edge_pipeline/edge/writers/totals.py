"""What each control-total column of the inbound layouts counts or sums.

The layouts declare the total *elements* (names, order); what a total means is a rule of the
file type: the same column is repeated at file, issuer and plan level (spec section 2), so one
rule per column serves all three scopes.  The rules refer to layout columns and record levels,
never to element names, so a corrected element name in a layout needs no change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class TotalRule:
    """A control total: the number of records of ``level``, or the sum of ``column`` over them."""

    kind: Literal["count", "sum"]
    level: str
    column: str | None = None


#: Rules per layout name, keyed by the total's column (as declared in the layout).
TOTAL_RULES: dict[str, dict[str, TotalRule]] = {
    "ESES": {
        "insured_member_total_quantity": TotalRule("count", "enrollee"),
        "insured_member_profile_total_quantity": TotalRule("count", "enrollment_period"),
    },
    "ESMCS": {
        "claim_detail_total_quantity": TotalRule("count", "claim"),
        "claim_service_line_total_quantity": TotalRule("count", "line"),
        "plan_paid_total_amount": TotalRule("sum", "claim", "policy_paid_total_amount"),
    },
    "ESPCS": {
        "claim_detail_total_quantity": TotalRule("count", "claim"),
        "plan_paid_total_amount": TotalRule("sum", "claim", "policy_paid_amount"),
    },
    "ESSFS": {
        "file_detail_total_quantity": TotalRule("count", "supplemental"),
    },
}


def total_rules(layout_name: str) -> dict[str, TotalRule]:
    """The control-total rules of a layout (empty for a layout without totals)."""
    return TOTAL_RULES.get(layout_name, {})
