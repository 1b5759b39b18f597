"""The code sets the face-validity checks look values up in, declared as data with their source.

Each :class:`CodeSet` is a closed list of fixed-width digit codes.  A value that has the
element's format (the ``E216``/``M210``/``M224``/``M228`` checks) but is not in the set fails
the element's code-set check (``E220``, ``M219``, ``M234``, ``M235``); a malformed value fails
only its format check.  The lists are public standards, kept here rather than in the reference
directory because they change rarely and are small; when a standard changes, change the data
here (and ``docs/error-catalog.md`` via ``edge-pipeline catalog``).

Sources, as of the 2025 benefit year:

* enrollmentMaintenanceTypeCode -- the spec gives ``021028`` (new / first period) and
  ``021041`` (renewal): an ASC X12 834 (005010X220A1) INS03 *maintenance type code* (3 digits)
  followed by the INS04 *maintenance reason code* zero-padded to 3 digits (``021`` addition +
  ``28`` initial enrollment; ``021`` + ``41`` re-enrollment).  Accepted: every pair of an INS03
  code the 834 guide allows (001 change, 021 addition, 024 cancellation or termination,
  025 reinstatement, 030 audit or compare) with a numeric INS04 code of the 834 guide.  The
  alphanumeric INS04 codes (``AI`` no reason given, ``EC`` member benefit selection, ``XN``,
  ``XT`` ...) cannot appear in a 6-digit element.  Which pairs an issuer really sends is not
  public, so the set is the standard's, not a guess at the EDGE server's narrower list.
* dischargeStatusCode -- NUBC UB-04 form locator 17, patient discharge status: 01-07, 09,
  20, 21, 30, 40-43, 50, 51, 61-66, 69, 70, 81-95.  ``08`` (home IV provider) and ``71``/``72``
  were deleted by the NUBC; 10-19, 22-29, 31-39, 44-49, 52-60, 67, 68, 73-80 and 96-99 are
  unassigned.
* revenueCode -- NUBC UB-04 form locator 42 revenue codes, checked by category: 0001 (total
  charge), 0022-0024 (SNF, home health and IRF PPS HIPPS lines), the accommodation and
  ancillary categories 0100-0999, and the 4-digit categories 100X (behavioral health
  accommodations), 210X (alternative therapy services) and 310X (adult care).  Subcategory
  digits inside an assigned category are not checked (some are "reserved"), so a valid
  category never rejects a real claim.
* serviceFacilityTypeCode -- the CMS Place of Service code set (Medicare Claims Processing
  Manual, chapter 26, 10.5): 01-27 (27 outreach site/street since 2023-10-01), 31-34, 41, 42,
  49-58, 60-62, 65, 66 (PACE center), 71, 72, 81 and 99.  28-30, 35-40, 43-48, 59, 63, 64,
  67-70, 73-80 and 82-98 are unassigned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def span(first: int, last: int, width: int) -> tuple[str, ...]:
    """The codes ``first``..``last`` (inclusive) as ``width``-digit zero-padded strings."""
    return tuple(f"{n:0{width}d}" for n in range(first, last + 1))


@dataclass(frozen=True)
class CodeSet:
    """A closed set of ``width``-digit codes of one element, and where the list comes from."""

    name: str
    element: str
    width: int
    codes: frozenset[str]
    source: str

    def __post_init__(self) -> None:
        bad = sorted(c for c in self.codes if len(c) != self.width or not c.isdigit())
        if bad:
            raise ValueError(f"{self.name}: not {self.width}-digit codes: {bad[:5]}")

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def runs(self) -> tuple[tuple[str, str], ...]:
        """The codes as maximal runs of consecutive numbers, ``(first, last)`` inclusive; the
        SQL check is a few ``BETWEEN``s instead of hundreds of literals."""
        numbers = sorted(int(c) for c in self.codes)
        found: list[tuple[int, int]] = []
        for n in numbers:
            if found and found[-1][1] == n - 1:
                found[-1] = (found[-1][0], n)
            else:
                found.append((n, n))
        w = self.width
        return tuple((f"{a:0{w}d}", f"{b:0{w}d}") for a, b in found)


def _pairs(types: Iterable[str], reasons: Iterable[str]) -> frozenset[str]:
    reasons = tuple(reasons)
    return frozenset(t + r.zfill(3) for t in types for r in reasons)


#: ASC X12 834 INS03 maintenance type codes the 005010X220A1 guide allows.
MAINTENANCE_TYPES = ("001", "021", "024", "025", "030")
#: Numeric ASC X12 834 INS04 maintenance reason codes of the 005010X220A1 guide.
MAINTENANCE_REASONS = (
    *span(1, 11, 2),  # divorce, birth, death, retirement, adoption, strike, terminations, COBRA
    *span(14, 18, 2),  # voluntary withdrawal, PCP change, quit, fired, suspended
    "20", "21", "22",  # active, disability, plan change
    *span(25, 29, 2),  # identifying data change, declined, pre-enrollment, initial, selection
    "31", "32", "33",  # legal separation, marriage, personnel data
    *span(37, 41, 2),  # leave of absence / lay off with or without benefits, re-enrollment
    "43", "59",  # change of location, non payment
)  # fmt: skip

MAINTENANCE_TYPE_CODES = CodeSet(
    "834 maintenance type + reason",
    "enrollmentMaintenanceTypeCode",
    6,
    _pairs(MAINTENANCE_TYPES, MAINTENANCE_REASONS),
    "ASC X12 834 005010X220A1 INS03 (3 digits) + INS04 zero-padded to 3 digits",
)

DISCHARGE_STATUS_CODES = CodeSet(
    "NUBC patient discharge status",
    "dischargeStatusCode",
    2,
    frozenset(
        (
            *span(1, 7, 2), "09", "20", "21", "30", *span(40, 43, 2), "50", "51",
            *span(61, 66, 2), "69", "70", *span(81, 95, 2),
        )
    ),
    "NUBC UB-04 Data Specifications Manual, form locator 17",
)  # fmt: skip

REVENUE_CODES = CodeSet(
    "NUBC revenue code",
    "revenueCode",
    4,
    frozenset(
        (
            "0001", *span(22, 24, 4), *span(100, 999, 4), *span(1000, 1009, 4),
            *span(2100, 2109, 4), *span(3100, 3109, 4),
        )
    ),
    "NUBC UB-04 Data Specifications Manual, form locator 42 (assigned categories)",
)  # fmt: skip

PLACE_OF_SERVICE_CODES = CodeSet(
    "CMS place of service",
    "serviceFacilityTypeCode",
    2,
    frozenset(
        (
            *span(1, 27, 2), *span(31, 34, 2), "41", "42", *span(49, 58, 2), *span(60, 62, 2),
            "65", "66", "71", "72", "81", "99",
        )
    ),
    "CMS Place of Service code set (Medicare Claims Processing Manual ch. 26, 10.5)",
)  # fmt: skip

CODE_SETS: tuple[CodeSet, ...] = (
    MAINTENANCE_TYPE_CODES,
    DISCHARGE_STATUS_CODES,
    REVENUE_CODES,
    PLACE_OF_SERVICE_CODES,
)


def render_code_sets_markdown() -> str:
    """The code sets as a Markdown table (part of ``docs/error-catalog.md``)."""
    lines = ["| element | code set | accepted codes | source |", "|---|---|---|---|"]
    for item in CODE_SETS:
        if item is MAINTENANCE_TYPE_CODES:
            accepted = (
                f"INS03 {', '.join(MAINTENANCE_TYPES)} followed by INS04 "
                f"{', '.join(r.zfill(3) for r in MAINTENANCE_REASONS)}"
            )
        else:
            accepted = ", ".join(a if a == b else f"{a}-{b}" for a, b in item.runs())
        lines.append(f"| {item.element} | {item.name} | {accepted} | {item.source} |")
    return "\n".join(lines)
