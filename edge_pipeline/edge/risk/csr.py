"""Cost-sharing reduction (CSR) factors and the CSR_INDICATOR of a plan variant.

The factors come from the ``CSR_ADJUSTED_SCORE_*`` formulas of tables 6/7/8, read as written::

    if CSR_INDICATOR = 2 then CSR_ADJUSTED_SCORE_ADULT_GOLD = SCORE_ADULT_GOLD x 1.07;
    else if ...
    else do; CSR_ADJUSTED_SCORE_ADULT_PLATINUM = SCORE_ADULT_PLATINUM x 1.00; ... end;

So an indicator listed in the chain adjusts only the score of *its* metal; the SAS leaves the
CSR-adjusted score of every other metal unassigned (missing).  An enrollee whose METAL does
not match the metal of a listed indicator therefore has a missing CSR-adjusted score: the
engine returns NULL ``csr_factor`` and NULL ``score_csr_adjusted`` for them.  An indicator not
listed (1, and any other value) takes the ``else do`` branch: factor 1.00 for every metal.

CSR_INDICATOR of a HIOS plan variant: benefit years with a table 13 use it.  Table 13 did not
exist for 2024; there ``csr_indicator_for`` derives the indicator from the CSR_INDICATOR lines
of table 1 (``CSR_INDICATOR = 2 for enrollees in Zero Cost Sharing Plan Variation of Gold
Level QHP``) through ``VARIANT_PHRASES`` (HIOS variant id → the phrase table 1 uses for it).
Where table 1 lists one phrase with different indicators (2024: "State Subsidy Plan of Gold
Level QHP" → 1 and → 2), the variants sharing the phrase take them in order: variant 42 → 1,
43 → 2 (the same positional reading gives table 13's 42 → 2, 43 → 9 from 2025's table 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from edge_pipeline.edge.risk.metals import METALS, metal_code

_NAMES = {name.upper(): code for code, name in METALS.items()}
_IF = re.compile(
    r"^(?:else\s+)?if\s+CSR_INDICATOR\s*=\s*(\d+)\s+then\s+CSR_ADJUSTED_SCORE_(\w+?)_"
    r"(PLATINUM|GOLD|SILVER|BRONZE|CATASTROPHIC)\s*=\s*SCORE_\2_\3\s*x\s*(\d+(?:\.\d+)?)\s*;$",
    re.IGNORECASE,
)
_ELSE_ASSIGN = re.compile(
    r"^CSR_ADJUSTED_SCORE_(\w+?)_(PLATINUM|GOLD|SILVER|BRONZE|CATASTROPHIC)\s*=\s*"
    r"SCORE_\1_\2\s*x\s*(\d+(?:\.\d+)?)\s*;$",
    re.IGNORECASE,
)

#: HIOS CSR variant id → the phrase DIY table 1 uses for it (``{metal}``: Platinum, Gold, ...).
VARIANT_PHRASES: dict[int, str] = {
    0: "non-CSR recipients",
    1: "non-CSR recipients",
    2: "Zero Cost Sharing Plan Variation of {metal} Level",
    3: "Limited Cost Sharing Plan Variation of {metal} Level",
    4: "73% AV Silver Plan Variation",
    5: "87% AV Silver Plan Variation",
    6: "94% Actuarial Value (AV) Silver Plan Variation",
    30: "State Subsidy Off-Exchange Plan of Silver Level",
    31: "State Subsidy Plan of Silver Level",
    32: "State Subsidy Plan of Silver Level",
    34: "State Subsidy Plan of Silver Level",
    35: "State Subsidy Plan of Silver Level",
    36: "State Subsidy Plan of Silver Level",
    42: "State Subsidy Plan of Gold Level",
    43: "State Subsidy Plan of Gold Level",
}
_TABLE1_LINE = re.compile(r"^CSR_INDICATOR\s*=\s*(\d+)\s+for\s+(.*)$", re.IGNORECASE)


class CsrFormulaError(ValueError):
    """The CSR formula text is not the if / else-if / else-do chain CMS publishes."""


@dataclass(frozen=True)
class CsrRule:
    """CSR factors of one model: listed indicators (metal, factor) and the ``else`` factors."""

    by_indicator: Mapping[int, tuple[str, Decimal]]
    otherwise: Mapping[str, Decimal]

    def factor(self, indicator: int | None, metal: str) -> Decimal | None:
        """The factor for an enrollee, or None when SAS leaves the adjusted score missing."""
        if indicator in self.by_indicator:
            rule_metal, factor = self.by_indicator[indicator]
            return factor if rule_metal == metal else None
        return self.otherwise[metal]

    @property
    def indicators(self) -> list[int]:
        """Valid CSR_INDICATOR values: 1 (no CSR) plus every listed indicator."""
        return sorted({1, *self.by_indicator})


def parse_csr_rule(lines: Sequence[str]) -> CsrRule:
    """Read the CSR_ADJUSTED_SCORE chain of one model (lines in table order)."""
    by_indicator: dict[int, tuple[str, Decimal]] = {}
    otherwise: dict[str, Decimal] = {}
    state = "chain"
    for raw in lines:
        line = " ".join(raw.split())
        if not line:
            continue
        if state == "chain":
            found = _IF.match(line)
            if found:
                indicator = int(found.group(1))
                if indicator in by_indicator:
                    raise CsrFormulaError(f"CSR_INDICATOR {indicator} listed twice")
                by_indicator[indicator] = (_NAMES[found.group(3).upper()], Decimal(found.group(4)))
            elif line.lower() in ("else do;", "else do ;"):
                state = "else"
            else:
                raise CsrFormulaError(f"unrecognised CSR formula line {line!r}")
        elif state == "else":
            found = _ELSE_ASSIGN.match(line)
            if found:
                otherwise[_NAMES[found.group(2).upper()]] = Decimal(found.group(3))
            elif line.lower() == "end;":
                state = "done"
            else:
                raise CsrFormulaError(f"unrecognised CSR formula line {line!r}")
        else:
            raise CsrFormulaError(f"text after the CSR formula's end: {line!r}")
    if state != "done" or set(otherwise) != set(METALS) or not by_indicator:
        raise CsrFormulaError(
            "CSR formula incomplete: needs 'if CSR_INDICATOR = n ...' lines and an 'else do;' "
            "block assigning all five metals, closed by 'end;'"
        )
    return CsrRule(by_indicator, otherwise)


def indicator_from_table1(lines: Sequence[str], variant: int, metal: str) -> int:
    """CSR_INDICATOR of a variant from table 1's CSR_INDICATOR lines (see module docstring)."""
    if variant not in VARIANT_PHRASES:
        raise ValueError(f"CSR variant {variant:02d} is not a HIOS CSR variant table 1 describes")
    name = METALS[metal_code(metal)].capitalize()
    phrase = VARIANT_PHRASES[variant].format(metal=name).lower()
    found = []
    for line in lines:
        match = _TABLE1_LINE.match(" ".join(line.split()))
        if match and phrase in match.group(2).lower():
            found.append(int(match.group(1)))
    if not found:
        raise ValueError(f"table 1 assigns no CSR_INDICATOR to {phrase!r} (variant {variant:02d})")
    if len(set(found)) == 1:
        return found[0]
    sharing = [v for v, p in VARIANT_PHRASES.items() if p == VARIANT_PHRASES[variant]]
    if len(sharing) != len(found):
        raise ValueError(
            f"table 1 gives {phrase!r} the indicators {found}, which cannot be matched to "
            f"variants {sharing} in order"
        )
    return found[sharing.index(variant)]


@dataclass(frozen=True)
class CsrVariant:
    """One row of table 13: HIOS variant → CSR level text → CSR_INDICATOR → factor."""

    variant: int
    level: str
    indicator: int
    factor: Decimal

    @property
    def metal(self) -> str | None:
        """The metal the level text names, if it names exactly one."""
        named = [code for code, name in METALS.items() if name in self.level.lower()]
        return named[0] if len(named) == 1 else None
