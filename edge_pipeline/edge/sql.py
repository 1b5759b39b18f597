"""SQL fragments the verification rules are written in: blank, typed values, formats, NPI.

Rules are SQL predicates over raw VARCHAR landing columns, so each fragment here states one
convention once (what counts as missing, what a date looks like) and every rule reuses it.
Typed conversions return NULL for a value that fails face validity, so a logical comparison on
a malformed value is NULL (never true): a face failure never also raises a logical error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

DATE_RE = r"\d{4}-\d{2}-\d{2}"
DATETIME_RE = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"
AMOUNT_RE = r"-?\d{1,15}(\.\d{1,2})?"
ICD10_RE = r"[A-Z][0-9][0-9A-Z]{1,5}"
PLAN_ID_RE = r"\d{5}[A-Z]{2}\d{9}"
INTEGER_RE = r"\d{1,9}"
NPI_RE = r"\d{10}"
#: HIOS CSR variants (DIY table 13): none, AI/AN, silver 73/87/94, state-subsidy variants.
CSR_VARIANTS = ("00", "01", "02", "03", "04", "05", "06", *(f"3{i}" for i in range(7)), "42", "43")
#: Luhn sum contributed by the NPI prefix 80840 (digits 8,0,8,4,0 with every second doubled).
_NPI_PREFIX_SUM = 24


def lit(value: object) -> str:
    """A SQL literal of a constant the CODE declares (codes, element names, code sets).

    Never for a value read from a file, a CSV or a file name: those are bound parameters
    (:func:`bound`)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


_PARAMETER = re.compile(r"\$([a-z_]+)\b")


def bound(sql: str, params: Mapping[str, object]) -> dict[str, object]:
    """The ``$name`` parameters of ``params`` that ``sql`` uses (DuckDB refuses extra ones).

    Why parameters: values from files (fileIdentifier, issuerIdentifier, executionZone ...)
    reach DuckDB only as values, so quotes or SQL fragments in them cannot change a query.
    """
    used = set(_PARAMETER.findall(sql))
    return {name: value for name, value in params.items() if name in used}


def blank(c: str) -> str:
    """Missing: the element is absent or holds only whitespace."""
    return f"({c} IS NULL OR trim({c}) = '')"


def present(c: str) -> str:
    return f"NOT {blank(c)}"


def matches(c: str, regex: str) -> str:
    return f"regexp_full_match({c}, '{regex}')"


def bad_format(c: str, regex: str) -> str:
    """Present but not of the form ``regex`` (the whole value)."""
    return f"({present(c)} AND NOT {matches(c, regex)})"


def as_date(c: str) -> str:
    """DATE of a ``YYYY-MM-DD`` value, NULL for anything else (``04/01/2025``, ``2025-02-30``)."""
    return f"(CASE WHEN {matches(c, DATE_RE)} THEN TRY_CAST({c} AS DATE) END)"


def as_timestamp(c: str) -> str:
    """TIMESTAMP of a ``YYYY-MM-DDTHH:MM:SS`` value, NULL for anything else."""
    return f"(CASE WHEN {matches(c, DATETIME_RE)} THEN TRY_STRPTIME({c}, '%Y-%m-%dT%H:%M:%S') END)"


def as_amount(c: str) -> str:
    """DECIMAL(18,2) of an amount with at most two decimals, NULL for anything else."""
    return f"(CASE WHEN {matches(c, AMOUNT_RE)} THEN CAST({c} AS DECIMAL(18,2)) END)"


def as_number(c: str) -> str:
    """Any decimal number (control totals are compared by value, e.g. ``12.340`` = 12.34)."""
    return f"TRY_CAST({c} AS DECIMAL(38,6))"


def bad_date(c: str) -> str:
    return f"({present(c)} AND {as_date(c)} IS NULL)"


def bad_timestamp(c: str) -> str:
    return f"({present(c)} AND {as_timestamp(c)} IS NULL)"


def bad_amount(c: str) -> str:
    return bad_format(c, AMOUNT_RE)


def bad_integer(c: str, low: int, high: int) -> str:
    return (
        f"({present(c)} AND NOT ({matches(c, INTEGER_RE)} "
        f"AND CAST({c} AS BIGINT) BETWEEN {low} AND {high}))"
    )


def not_in(c: str, codes: tuple[str, ...]) -> str:
    """Present but not one of ``codes``."""
    listed = ", ".join(lit(code) for code in codes)
    return f"({present(c)} AND {c} NOT IN ({listed}))"


def not_in_runs(c: str, width: int, runs: tuple[tuple[str, str], ...]) -> str:
    """``width`` digits (the format check's job otherwise) but in none of the inclusive
    ``(first, last)`` runs of a code set (fixed width, so text order is numeric order)."""
    inside = " OR ".join(
        f"{c} = {lit(a)}" if a == b else f"{c} BETWEEN {lit(a)} AND {lit(b)}" for a, b in runs
    )
    digits = r"\d{" + str(width) + "}"
    return f"({matches(c, digits)} AND NOT ({inside or 'FALSE'}))"


def too_long(c: str, n: int = 50) -> str:
    return f"({present(c)} AND length({c}) > {n})"


def fiscal_year(d: str) -> str:
    """Federal fiscal year of a DATE (October 1 starts the next year)."""
    return f"(year({d}) + CASE WHEN month({d}) >= 10 THEN 1 ELSE 0 END)"


def npi_valid(c: str) -> str:
    """10 digits whose last is the Luhn check digit of ``80840`` + the first nine.

    Vectorised: the Luhn sum is spelled out over the ten positions (every second digit from the
    right doubled, minus 9 when above 9), no per-row loop.
    """
    terms = []
    for position in range(1, 11):
        digit = f"(ascii(substr({c}, {position}, 1)) - 48)"
        if position % 2 == 1:  # doubled (counting from the right of the 15-digit number)
            terms.append(f"(2 * {digit} - CASE WHEN {digit} >= 5 THEN 9 ELSE 0 END)")
        else:
            terms.append(digit)
    total = " + ".join(terms)
    return f"({matches(c, NPI_RE)} AND ({_NPI_PREFIX_SUM} + {total}) % 10 = 0)"


def bad_npi(c: str) -> str:
    return f"({present(c)} AND NOT {npi_valid(c)})"


def bad_plan_id(c: str) -> str:
    return bad_format(c, PLAN_ID_RE)


def bad_csr_variant(c: str) -> str:
    """A well-formed plan id whose last two characters are not a HIOS CSR variant."""
    variants = ", ".join(lit(v) for v in CSR_VARIANTS)
    return f"({matches(c, PLAN_ID_RE)} AND substr({c}, 15, 2) NOT IN ({variants}))"
