"""The element rules, declared as data: per record type a source query and its predicates.

A :class:`Source` is a SQL query over ONE file's landing rows (``$fid``) that yields one row
per record (or per repeated value) with the raw columns plus typed and looked-up helper
columns (``_from``, ``_member_known`` ...).  Each :class:`Rule` is a catalog code and a SQL
predicate over that row (alias ``src``) that is TRUE when the element FAILS.  The engine evaluates all rules of
a source in one vectorised pass (no Python per record).

Parameters the engine binds (DuckDB ``$name`` parameters, never text spliced into the SQL, so
a header value carrying quotes or SQL reaches DuckDB only as a value): ``$fid`` (file
identifier), ``$issuer`` (the file's issuer id), ``$received`` (TIMESTAMP the file was loaded:
"processing time", so re-verification is deterministic), ``$generated`` (the header's
generationDateTime as TIMESTAMP, or NULL), ``$lid`` (the load attempt, header rules only).

Context tables the engine builds before the rules run (claim files only):
``_v_enr(member_id, plan_id, start_date, end_date)`` the accepted active enrollment as of the
file, ``_v_stored(claim_identifier, ...)`` claims of this file type accepted in earlier files,
``_v_stored_supp(detail_id, ...)`` supplemental records accepted in earlier files.
Cross-record rules that depend on the outcome of other records of the same file (voids and
replacements) are in ``chains.py``; the header in ``header.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_pipeline.edge.code_sets import (
    DISCHARGE_STATUS_CODES,
    MAINTENANCE_TYPE_CODES,
    PLACE_OF_SERVICE_CODES,
    REVENUE_CODES,
    CodeSet,
)
from edge_pipeline.edge.layouts import BY_NAME, FileLayout
from edge_pipeline.edge.layouts.model import Element
from edge_pipeline.edge.sql import (
    ICD10_RE,
    PLAN_ID_RE,
    as_amount,
    as_date,
    as_number,
    as_timestamp,
    bad_amount,
    bad_csr_variant,
    bad_date,
    bad_format,
    bad_integer,
    bad_npi,
    bad_plan_id,
    bad_timestamp,
    blank,
    fiscal_year,
    lit,
    matches,
    not_in,
    not_in_runs,
    present,
    too_long,
)
from edge_pipeline.edge.writers.totals import total_rules


@dataclass(frozen=True)
class Rule:
    """One catalog error as a predicate: TRUE when the element fails.

    ``value``: SQL of the offending value (default: the catalog element's column);
    ``element``: SQL of the element name, only for catalog entries whose element is ``*``.
    """

    code: str
    fails: str
    value: str | None = None
    element: str | None = None


@dataclass(frozen=True)
class Source:
    """A query yielding the rows some rules are evaluated on (``record_identifier`` = the record
    the errors attach to, at ``level``)."""

    name: str
    layout: str
    level: str
    sql: str
    rules: tuple[Rule, ...]


BILL_TYPE_RE = r"\d{3}"
NDC_RE = r"\d{11}"


def _fid(alias: str) -> str:
    return f"{alias}.file_identifier = $fid"


def bad_code(c: str, code_set: CodeSet) -> str:
    """Of the code set's format but not one of its codes (see ``code_sets.py``)."""
    return not_in_runs(c, code_set.width, code_set.runs())


# -- control totals -----------------------------------------------------------------------------


def _level_tables(layout: FileLayout) -> dict[str, str]:
    return {record.level: record.table for record, _ in layout.records()}


def actual_totals(layout: FileLayout, group_by: str | None) -> list[tuple[str, str]]:
    """Subqueries computing each control total of ``layout`` from the file's records, grouped
    by ``group_by`` (an ancestor key column such as ``plan_record_identifier``) or over the file.
    Columns are named ``_actual_<total column>``."""
    tables = _level_tables(layout)
    joins = []
    for column, rule in total_rules(layout.name).items():
        table = tables[rule.level]
        expr = "count(*)" if rule.kind == "count" else f"sum({as_number(rule.column or '')})"
        key = f"{group_by} AS _key, " if group_by else ""
        group = " GROUP BY 1" if group_by else ""
        joins.append((column, f"(SELECT {key}{expr} AS v FROM {table} WHERE {_fid(table)}{group})"))
    return joins


def _total_rules(
    fields: tuple[Element, ...], layout: FileLayout, codes: tuple[str, str, str], guard: str
) -> list[Rule]:
    """Missing / not a number / mismatch rules for the control-total elements in ``fields``."""
    missing, face, mismatch = codes
    found = []
    rules = total_rules(layout.name)
    for element in fields:
        rule = rules.get(element.column)
        if rule is None:
            continue
        c = element.column
        regex = r"\d{1,18}" if rule.kind == "count" else r"-?\d{1,18}(\.\d{1,2})?"
        name = lit(element.name)
        found += [
            Rule(missing, f"{guard} AND {blank(c)}", "NULL", name),
            Rule(face, f"{guard} AND {bad_format(c, regex)}", c, name),
            Rule(
                mismatch,
                f"{guard} AND {matches(c, regex)} AND {as_number(c)} <> coalesce(_actual_{c}, 0)",
                c,
                name,
            ),
        ]
    return found


def _with_totals(base: str, alias: str, layout: FileLayout, group_by: str | None) -> str:
    """``base`` (a FROM clause with ``alias``) joined with the actual totals."""
    columns, joins = [], []
    for i, (column, subquery) in enumerate(actual_totals(layout, group_by)):
        columns.append(f"t{i}.v AS _actual_{column}")
        on = f"t{i}._key = {alias}.record_identifier" if group_by else "TRUE"
        joins.append(f"LEFT JOIN {subquery} t{i} ON {on}")
    select = ", ".join([f"{alias}.*", *columns])
    return f"SELECT {select} FROM {base} {' '.join(joins)}"


# -- records shared by every file type ----------------------------------------------------------


def issuer_source(layout: FileLayout) -> Source:
    base = (
        "(SELECT t.*, EXISTS (SELECT 1 FROM ref_plan r WHERE r.issuer_identifier = "
        f"t.issuer_identifier) AS _registered FROM submission_issuer t WHERE {_fid('t')}) i"
    )
    c = "issuer_identifier"
    rules = [
        Rule("X101", blank(c)),
        Rule("X201", bad_format(c, r"\d{5}")),
        Rule("X301", f"{present(c)} AND NOT _registered"),
        *_total_rules(layout.issuer.fields, layout, ("X102", "X202", "X402"), "TRUE"),
    ]
    return Source(
        "issuer", layout.name, "issuer", _with_totals(base, "i", layout, None), tuple(rules)
    )


def plan_source(layout: FileLayout) -> Source:
    plan = layout.issuer.children[0]
    base = (
        "(SELECT t.*, r.insurance_plan_identifier IS NOT NULL AS _registered "
        "FROM submission_plan t LEFT JOIN ref_plan r "
        f"ON r.insurance_plan_identifier = t.insurance_plan_identifier WHERE {_fid('t')}) p"
    )
    c = "insurance_plan_identifier"
    rules = [
        Rule("X103", blank(c)),
        Rule("X203", bad_plan_id(c)),
        Rule("X204", bad_csr_variant(c)),
        Rule("X302", f"{present(c)} AND NOT _registered"),
        Rule("X403", f"{matches(c, PLAN_ID_RE)} AND substr({c}, 1, 5) <> $issuer"),
        *_total_rules(plan.fields, layout, ("X104", "X205", "X404"), "TRUE"),
    ]
    sql = _with_totals(base, "p", layout, "plan_record_identifier")
    return Source("plan", layout.name, "plan", sql, tuple(rules))


# -- ESES ---------------------------------------------------------------------------------------

_ENROLLEE_SQL = f"""
SELECT t.*, {as_date("t.insured_member_birth_date")} AS _birth,
  CASE WHEN {present("t.insured_member_identifier")} THEN row_number() OVER (
    PARTITION BY t.insured_member_identifier ORDER BY t.record_identifier) END AS _occurrence,
  p._periods, p._first_start
FROM enrollee t
LEFT JOIN (
  SELECT enrollee_record_identifier AS rid, count(*) AS _periods,
    min({as_date("coverage_start_date")}) AS _first_start
  FROM enrollment_period WHERE {_fid("enrollment_period")} GROUP BY 1
) p ON p.rid = t.record_identifier
WHERE {_fid("t")}
"""

_ENROLLEE_RULES = (
    Rule("E101", blank("insured_member_identifier")),
    Rule("E102", blank("insured_member_birth_date")),
    Rule("E103", blank("insured_member_gender_code")),
    Rule("E104", "coalesce(_periods, 0) = 0", "NULL"),
    Rule("E201", too_long("insured_member_identifier")),
    Rule("E202", bad_date("insured_member_birth_date")),
    Rule("E203", not_in("insured_member_gender_code", ("M", "F", "U"))),
    Rule("E401", "_occurrence > 1"),
    Rule("E402", "_birth > CAST($received AS DATE)"),
    Rule("E403", "insured_member_gender_code = 'U' AND _first_start - _birth > 90"),
)

_PERIOD_SQL = f"""
SELECT s.*,
  max(CASE WHEN _ordered THEN _end END) OVER (
    PARTITION BY enrollee_record_identifier
    ORDER BY CASE WHEN _ordered THEN _start END NULLS LAST, record_identifier
    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS _prior_end
FROM (
  SELECT t.*, {as_date("e.insured_member_birth_date")} AS _birth,
    {as_date("t.coverage_start_date")} AS _start, {as_date("t.coverage_end_date")} AS _end,
    coalesce({as_date("t.coverage_start_date")} <= {as_date("t.coverage_end_date")}, FALSE)
      AS _ordered,
    {as_amount("t.insurance_plan_premium_amount")} AS _premium,
    r.insurance_plan_identifier IS NOT NULL AS _registered,
    r.effective_start_date AS _plan_start, r.effective_end_date AS _plan_end,
    r.rating_areas AS _rating_areas,
    sub.member_id IS NOT NULL AS _subscriber_known
  FROM enrollment_period t
  JOIN enrollee e ON {_fid("e")} AND e.record_identifier = t.enrollee_record_identifier
  LEFT JOIN ref_plan r ON r.insurance_plan_identifier = t.insurance_plan_identifier
  LEFT JOIN (SELECT DISTINCT insured_member_identifier AS member_id FROM enrollee
             WHERE {_fid("enrollee")}) sub ON sub.member_id = t.subscriber_identifier
  WHERE {_fid("t")}
) s
"""

_PERIOD_RULES = (
    Rule("E111", f"{blank('subscriber_indicator')} AND {blank('subscriber_identifier')}", "NULL"),
    Rule("E112", blank("insurance_plan_identifier")),
    Rule("E113", blank("coverage_start_date")),
    Rule("E114", blank("coverage_end_date")),
    Rule("E115", blank("enrollment_maintenance_type_code")),
    Rule("E116", blank("insurance_plan_premium_amount")),
    Rule("E117", blank("rate_area_identifier")),
    Rule("E211", not_in("subscriber_indicator", ("S",))),
    Rule("E212", bad_plan_id("insurance_plan_identifier")),
    Rule("E213", bad_csr_variant("insurance_plan_identifier")),
    Rule("E214", bad_date("coverage_start_date")),
    Rule("E215", bad_date("coverage_end_date")),
    Rule("E216", bad_format("enrollment_maintenance_type_code", r"\d{6}")),
    Rule("E217", bad_amount("insurance_plan_premium_amount")),
    Rule("E218", bad_format("rate_area_identifier", r"\d{3}")),
    Rule("E219", too_long("subscriber_identifier")),
    Rule("E220", bad_code("enrollment_maintenance_type_code", MAINTENANCE_TYPE_CODES)),
    Rule(
        "E311",
        f"{present('insurance_plan_identifier')} AND (NOT _registered OR "
        "_start < coalesce(_plan_start, _start) OR _start > coalesce(_plan_end, _start))",
    ),
    Rule(
        "E312",
        f"{present('rate_area_identifier')} AND _registered AND _rating_areas IS NOT NULL "
        "AND NOT list_contains(_rating_areas, rate_area_identifier)",
    ),
    Rule("E313", f"{present('subscriber_identifier')} AND NOT _subscriber_known"),
    # exactly one of the two: the guide's Required check (situational), so E118 (not E411)
    Rule("E118", f"{present('subscriber_indicator')} AND {present('subscriber_identifier')}"),
    Rule("E412", "_start > _end"),
    Rule("E413", "_start < _birth"),
    Rule("E414", "_ordered AND _prior_end >= _start"),
    Rule("E415", "_premium < 0"),
    Rule(
        "E416",
        f"{matches('insurance_plan_identifier', PLAN_ID_RE)} "
        "AND substr(insurance_plan_identifier, 1, 5) <> $issuer",
    ),
    Rule(
        "E417",
        f"subscriber_indicator = 'S' AND {blank('subscriber_identifier')} AND _premium = 0",
    ),
    Rule(
        "E418",
        f"{blank('subscriber_indicator')} AND {present('subscriber_identifier')} AND _premium > 0",
    ),
)

# -- claim helpers shared by ESMCS and ESPCS ----------------------------------------------------


def _claim_common(codes: dict[str, str]) -> list[Rule]:
    """Rules the medical and pharmacy claim share, by role -> catalog code."""
    return [
        Rule(codes["member_missing"], blank("insured_member_identifier")),
        Rule(codes["id_missing"], blank("claim_identifier")),
        Rule(
            codes["original_missing"],
            f"void_replace_code IN ('R', 'V') AND {blank('original_claim_identifier')}",
            "void_replace_code",
        ),
        Rule(codes["processed_missing"], blank("claim_processed_datetime")),
        Rule(codes["member_long"], too_long("insured_member_identifier")),
        Rule(codes["id_long"], too_long("claim_identifier")),
        Rule(codes["original_long"], too_long("original_claim_identifier")),
        Rule(codes["processed_face"], bad_timestamp("claim_processed_datetime")),
        Rule(codes["void_replace_face"], not_in("void_replace_code", ("R", "V"))),
        Rule(
            codes["member_unknown"], f"{present('insured_member_identifier')} AND NOT _member_known"
        ),
        Rule(codes["stored"], "_stored"),
        Rule(codes["repeated"], "_occurrence > 1"),
        Rule(
            codes["original_on_original"],
            f"{blank('void_replace_code')} AND {present('original_claim_identifier')}",
        ),
        Rule(codes["processed_late"], "_processed > $generated"),
    ]


def _claim_context(table: str, date_column: str) -> str:
    """Joins every claim source needs: plan id, enrollee known, coverage, stored, repeated."""
    return f"""
WITH c AS (
  SELECT t.*, p.insurance_plan_identifier AS _plan,
    {as_date(f"t.{date_column}")} AS _service_date,
    {as_timestamp("t.claim_processed_datetime")} AS _processed,
    CASE WHEN {present("t.claim_identifier")} THEN row_number() OVER (
      PARTITION BY t.claim_identifier ORDER BY t.record_identifier) END AS _occurrence
  FROM {table} t
  JOIN submission_plan p ON {_fid("p")} AND p.record_identifier = t.plan_record_identifier
  WHERE {_fid("t")}
), covered AS (
  SELECT DISTINCT c.record_identifier AS rid FROM c JOIN _v_enr e
    ON e.member_id = c.insured_member_identifier AND e.plan_id = c._plan
   AND c._service_date BETWEEN e.start_date AND e.end_date
)
SELECT c.*, m.member_id IS NOT NULL AS _member_known, cv.rid IS NOT NULL AS _covered,
  s.claim_identifier IS NOT NULL AS _stored
FROM c
LEFT JOIN (SELECT DISTINCT member_id FROM _v_enr) m ON m.member_id = c.insured_member_identifier
LEFT JOIN covered cv ON cv.rid = c.record_identifier
LEFT JOIN (SELECT DISTINCT claim_identifier FROM _v_stored) s
  ON s.claim_identifier = c.claim_identifier
"""


# -- ESMCS --------------------------------------------------------------------------------------

_MEDICAL_CLAIM_SQL = f"""
SELECT x.*, {as_date("x.statement_cover_to_date")} AS _to,
  {as_date("x.issuer_claim_paid_date")} AS _paid,
  {as_amount("x.allowed_total_amount")} AS _allowed,
  {as_amount("x.policy_paid_total_amount")} AS _paid_total,
  l._lines, l._line_allowed, l._line_paid, l._line_allowed_ok, l._line_paid_ok, d._diagnoses
FROM ({_claim_context("medical_claim", "statement_cover_from_date")}) x
LEFT JOIN (
  SELECT claim_record_identifier AS rid, count(*) AS _lines,
    sum({as_amount("allowed_amount")}) AS _line_allowed,
    sum({as_amount("policy_paid_amount")}) AS _line_paid,
    bool_and({as_amount("allowed_amount")} IS NOT NULL) AS _line_allowed_ok,
    bool_and({as_amount("policy_paid_amount")} IS NOT NULL) AS _line_paid_ok
  FROM medical_claim_line WHERE {_fid("medical_claim_line")} GROUP BY 1
) l ON l.rid = x.record_identifier
LEFT JOIN (
  SELECT record_identifier AS rid, count(*) AS _diagnoses FROM medical_claim_diagnosis
  WHERE {_fid("medical_claim_diagnosis")} AND {present("diagnosis_code")} GROUP BY 1
) d ON d.rid = x.record_identifier
"""

_MEDICAL_CLAIM_RULES = (
    *_claim_common(
        {
            "member_missing": "M101",
            "id_missing": "M103",
            "original_missing": "M104",
            "processed_missing": "M105",
            "member_long": "M201",
            "id_long": "M203",
            "original_long": "M204",
            "processed_face": "M205",
            "void_replace_face": "M207",
            "member_unknown": "M301",
            "stored": "M401",
            "repeated": "M402",
            "original_on_original": "M406",
            "processed_late": "M412",
        }
    ),
    Rule("M102", blank("form_type_code")),
    Rule("M106", f"form_type_code = 'I' AND {blank('bill_type_code')}", "form_type_code"),
    Rule("M107", blank("diagnosis_type_code")),
    Rule("M108", "coalesce(_diagnoses, 0) = 0", "NULL"),
    Rule(
        "M109",
        f"form_type_code = 'I' AND substr(bill_type_code, 1, 2) = '11' "
        f"AND {blank('discharge_status_code')}",
        "bill_type_code",
    ),
    Rule("M110", blank("statement_cover_from_date")),
    Rule("M111", blank("statement_cover_to_date")),
    Rule("M112", blank("billing_provider_id_qualifier")),
    Rule("M113", blank("billing_provider_identifier")),
    Rule("M114", blank("issuer_claim_paid_date")),
    Rule("M115", blank("allowed_total_amount")),
    Rule("M116", blank("policy_paid_total_amount")),
    Rule("M117", blank("derived_service_claim_indicator")),
    Rule("M118", "coalesce(_lines, 0) = 0", "NULL"),
    Rule("M202", not_in("form_type_code", ("I", "P"))),
    Rule("M206", bad_format("bill_type_code", BILL_TYPE_RE)),
    Rule("M208", not_in("diagnosis_type_code", ("01", "02"))),
    Rule("M210", bad_format("discharge_status_code", r"\d{2}")),
    Rule("M211", bad_date("statement_cover_from_date")),
    Rule("M212", bad_date("statement_cover_to_date")),
    Rule("M213", not_in("billing_provider_id_qualifier", ("XX",))),
    Rule("M214", bad_npi("billing_provider_identifier")),
    Rule("M215", bad_date("issuer_claim_paid_date")),
    Rule("M216", bad_amount("allowed_total_amount")),
    Rule("M217", bad_amount("policy_paid_total_amount")),
    Rule("M218", not_in("derived_service_claim_indicator", ("Y", "N"))),
    Rule("M219", bad_code("discharge_status_code", DISCHARGE_STATUS_CODES)),
    Rule(
        "M407",
        f"{blank('void_replace_code')} AND {matches('bill_type_code', BILL_TYPE_RE)} "
        "AND substr(bill_type_code, 3, 1) IN ('7', '8')",
    ),
    Rule("M408", f"form_type_code = 'P' AND {present('bill_type_code')}"),
    Rule("M409", f"form_type_code = 'P' AND {present('discharge_status_code')}"),
    Rule("M410", "_to < _service_date"),
    Rule(
        "M411",
        f"{present('insured_member_identifier')} AND _member_known "
        "AND _service_date IS NOT NULL AND NOT _covered",
    ),
    Rule("M413", "_paid < _service_date"),
    Rule("M414", "_line_allowed_ok AND _allowed <> _line_allowed"),
    Rule("M415", "_line_paid_ok AND _paid_total <> _line_paid"),
    Rule(
        "M417",
        "diagnosis_type_code = '01' AND coalesce(_to, _service_date) > DATE '2015-09-30'",
    ),
)


def _diagnosis_sql(table: str, owner: str, column: str, from_column: str, to_column: str) -> str:
    """Repeated diagnosis codes with their owner's service date, looked up in ref_icd10cm."""
    return f"""
SELECT d.*, f.valid AS _fy_valid, g.valid AS _any_valid
FROM {table} d
JOIN (SELECT record_identifier, coalesce({as_date(to_column)}, {as_date(from_column)}) AS _svc
      FROM {owner} WHERE {_fid(owner)}) o ON o.record_identifier = d.record_identifier
LEFT JOIN ref_icd10cm f ON f.code = d.{column} AND f.fiscal_year = {fiscal_year("o._svc")}
LEFT JOIN ref_icd10cm g ON g.code = d.{column} AND g.fiscal_year IS NULL
WHERE {_fid("d")}
"""


def _diagnosis_rules(face: str, referential: str, column: str) -> tuple[Rule, ...]:
    return (
        Rule(face, bad_format(column, ICD10_RE)),
        # present, not well-formed: a malformed code gets its face AND referential result
        Rule(referential, f"{present(column)} AND NOT coalesce(_fy_valid, _any_valid, FALSE)"),
    )


_LINE_SQL = f"""
SELECT l.*, c.form_type_code AS _form,
  {as_date("c.statement_cover_from_date")} AS _claim_from,
  {as_date("c.statement_cover_to_date")} AS _claim_to,
  {as_date("l.service_from_date")} AS _from, {as_date("l.service_to_date")} AS _to,
  CASE WHEN {present("l.service_line_number")} THEN row_number() OVER (
    PARTITION BY l.claim_record_identifier, l.service_line_number
    ORDER BY l.record_identifier) END AS _occurrence,
  h.code IS NOT NULL AS _code_known
FROM medical_claim_line l
JOIN medical_claim c ON {_fid("c")} AND c.record_identifier = l.claim_record_identifier
LEFT JOIN ref_hcpcs h ON h.code = l.service_code
WHERE {_fid("l")}
"""

_LINE_RULES = (
    Rule("M121", blank("service_line_number")),
    Rule("M122", blank("service_from_date")),
    Rule("M123", blank("service_to_date")),
    Rule("M124", f"_form = 'I' AND {blank('revenue_code')}", "_form"),
    Rule("M125", f"{present('service_code')} AND {blank('service_type_code')}", "service_code"),
    Rule("M126", f"_form = 'P' AND {blank('service_code')}", "_form"),
    Rule("M127", f"_form = 'P' AND {blank('service_facility_type_code')}", "_form"),
    Rule(
        "M128",
        f"{present('rendering_provider_identifier')} "
        f"AND {blank('rendering_provider_id_qualifier')}",
        "rendering_provider_identifier",
    ),
    Rule("M129", blank("allowed_amount")),
    Rule("M130", blank("policy_paid_amount")),
    Rule("M131", blank("derived_service_claim_indicator")),
    Rule("M221", bad_integer("service_line_number", 1, 999)),
    Rule("M222", bad_date("service_from_date")),
    Rule("M223", bad_date("service_to_date")),
    Rule("M224", bad_format("revenue_code", r"\d{4}")),
    Rule("M225", not_in("service_type_code", ("HC",))),
    Rule("M226", bad_format("service_code", r"[A-Z0-9]{5}")),
    Rule("M228", bad_format("service_facility_type_code", r"\d{2}")),
    Rule("M229", not_in("rendering_provider_id_qualifier", ("XX",))),
    Rule("M230", bad_npi("rendering_provider_identifier")),
    Rule("M231", bad_amount("allowed_amount")),
    Rule("M232", bad_amount("policy_paid_amount")),
    Rule("M233", not_in("derived_service_claim_indicator", ("Y", "N"))),
    Rule("M234", bad_code("revenue_code", REVENUE_CODES)),
    Rule("M235", bad_code("service_facility_type_code", PLACE_OF_SERVICE_CODES)),
    Rule("M321", f"{present('service_code')} AND NOT _code_known"),
    Rule("M421", "_to < _from"),
    Rule("M422", f"_form = 'P' AND {present('revenue_code')}"),
    Rule("M423", f"_form = 'I' AND {present('service_facility_type_code')}"),
    Rule("M424", "_claim_from <= _claim_to AND (_from < _claim_from OR _to > _claim_to)"),
    Rule("M425", "_occurrence > 1"),
)

# -- ESPCS --------------------------------------------------------------------------------------

_PHARMACY_CLAIM_SQL = f"""
SELECT x.*, {as_date("x.issuer_claim_paid_date")} AS _paid, n.code IS NOT NULL AS _ndc_known
FROM ({_claim_context("pharmacy_claim", "prescription_fill_date")}) x
LEFT JOIN ref_ndc n ON n.code = x.national_drug_code
"""

_PHARMACY_CLAIM_RULES = (
    *_claim_common(
        {
            "member_missing": "P101",
            "id_missing": "P102",
            "original_missing": "P103",
            "processed_missing": "P104",
            "member_long": "P201",
            "id_long": "P202",
            "original_long": "P203",
            "processed_face": "P205",
            "void_replace_face": "P204",
            "member_unknown": "P301",
            "stored": "P401",
            "repeated": "P402",
            "original_on_original": "P406",
            "processed_late": "P408",
        }
    ),
    Rule("P105", blank("prescription_fill_date")),
    Rule("P106", blank("issuer_claim_paid_date")),
    Rule("P107", blank("prescription_service_reference_number")),
    Rule("P108", blank("national_drug_code")),
    Rule("P109", blank("dispensing_provider_id_qualifier")),
    Rule("P110", blank("dispensing_provider_identifier")),
    Rule("P111", blank("prescription_fill_number")),
    Rule("P112", blank("allowed_total_cost_amount")),
    Rule("P113", blank("policy_paid_amount")),
    Rule("P114", blank("derived_service_claim_indicator")),
    Rule("P206", bad_date("prescription_fill_date")),
    Rule("P207", bad_date("issuer_claim_paid_date")),
    Rule("P208", too_long("prescription_service_reference_number")),
    Rule("P209", bad_format("national_drug_code", NDC_RE)),
    Rule("P210", not_in("dispensing_provider_id_qualifier", ("01", "XX"))),
    Rule("P211", bad_npi("dispensing_provider_identifier")),
    Rule("P212", bad_integer("prescription_fill_number", 0, 999)),
    Rule("P213", not_in("dispensing_status_code", ("P", "C"))),
    Rule("P214", bad_amount("allowed_total_cost_amount")),
    Rule("P215", bad_amount("policy_paid_amount")),
    Rule("P216", not_in("derived_service_claim_indicator", ("Y", "N"))),
    Rule("P302", f"{present('national_drug_code')} AND NOT _ndc_known"),
    Rule(
        "P407",
        f"{present('insured_member_identifier')} AND _member_known "
        "AND _service_date IS NOT NULL AND NOT _covered",
    ),
    Rule("P409", "_paid < _service_date"),
)

# -- ESSFS --------------------------------------------------------------------------------------

_SUPPLEMENTAL_SQL = f"""
WITH r AS (
  SELECT t.*, p.insurance_plan_identifier AS _plan,
    {as_date("t.service_from_date")} AS _from, {as_date("t.service_to_date")} AS _to
  FROM supplemental_record t
  JOIN submission_plan p ON {_fid("p")} AND p.record_identifier = t.plan_record_identifier
  WHERE {_fid("t")}
), covered AS (
  SELECT r.record_identifier AS rid,
    bool_or(r._from BETWEEN e.start_date AND e.end_date) AS _from_covered,
    bool_or(r._to BETWEEN e.start_date AND e.end_date) AS _to_covered
  FROM r JOIN _v_enr e ON e.member_id = r.insured_member_identifier AND e.plan_id = r._plan
  GROUP BY 1
)
SELECT r.*, {as_timestamp("r.detail_record_processed_datetime")} AS _processed,
  CASE WHEN {present("r.supplemental_diagnosis_detail_record_identifier")}
    THEN row_number() OVER (PARTITION BY r.supplemental_diagnosis_detail_record_identifier
                            ORDER BY r.record_identifier) END AS _occurrence,
  m.member_id IS NOT NULL AS _member_known, s.detail_id IS NOT NULL AS _stored, d._diagnoses,
  coalesce(cv._from_covered, FALSE) AS _from_covered,
  coalesce(cv._to_covered, FALSE) AS _to_covered
FROM r
LEFT JOIN (SELECT DISTINCT member_id FROM _v_enr) m ON m.member_id = r.insured_member_identifier
LEFT JOIN (SELECT DISTINCT detail_id FROM _v_stored_supp) s
  ON s.detail_id = r.supplemental_diagnosis_detail_record_identifier
LEFT JOIN (
  SELECT record_identifier AS rid, count(*) AS _diagnoses FROM supplemental_diagnosis
  WHERE {_fid("supplemental_diagnosis")} AND {present("supplemental_diagnosis_code")} GROUP BY 1
) d ON d.rid = r.record_identifier
LEFT JOIN covered cv ON cv.rid = r.record_identifier
"""

_DETAIL_ID = "supplemental_diagnosis_detail_record_identifier"
_SUPPLEMENTAL_RULES = (
    Rule("S101", blank("insured_member_identifier")),
    Rule("S102", blank(_DETAIL_ID)),
    Rule("S103", blank("original_claim_identifier")),
    Rule("S104", blank("detail_record_processed_datetime")),
    Rule("S105", blank("add_delete_void_code")),
    Rule(
        "S106",
        f"add_delete_void_code = 'V' AND {blank('original_supplemental_detail_id')}",
        "add_delete_void_code",
    ),
    Rule("S107", blank("service_from_date")),
    Rule("S108", blank("service_to_date")),
    Rule("S109", blank("diagnosis_type_code")),
    Rule("S110", "coalesce(_diagnoses, 0) = 0", "NULL"),
    Rule("S111", blank("source_code")),
    Rule("S201", too_long("insured_member_identifier")),
    Rule("S202", too_long(_DETAIL_ID)),
    Rule("S203", too_long("original_claim_identifier")),
    Rule("S204", bad_timestamp("detail_record_processed_datetime")),
    Rule("S205", not_in("add_delete_void_code", ("A", "D", "V"))),
    Rule("S206", too_long("original_supplemental_detail_id")),
    Rule("S207", bad_date("service_from_date")),
    Rule("S208", bad_date("service_to_date")),
    Rule("S209", not_in("diagnosis_type_code", ("01", "02"))),
    Rule("S211", not_in("source_code", ("MR", "EDI"))),
    Rule("S301", f"{present('insured_member_identifier')} AND NOT _member_known"),
    Rule("S401", "_stored"),
    Rule("S402", "_occurrence > 1"),
    Rule(
        "S405",
        f"add_delete_void_code IN ('A', 'D') AND {present('original_supplemental_detail_id')}",
    ),
    Rule("S406", "_to < _from"),
    Rule("S408", "_processed > $generated"),
    Rule(
        "S410",
        f"{present('insured_member_identifier')} AND _member_known AND _from IS NOT NULL "
        "AND NOT (_from_covered AND (_to IS NULL OR _to_covered))",
    ),
)


def sources(layout_name: str) -> tuple[Source, ...]:
    """Every rule source of a file type, in evaluation order."""
    layout = BY_NAME[layout_name]
    found = [issuer_source(layout)]
    if layout_name == "ESES":
        found += [
            Source("enrollee", "ESES", "enrollee", _ENROLLEE_SQL, _ENROLLEE_RULES),
            Source("enrollment_period", "ESES", "enrollment_period", _PERIOD_SQL, _PERIOD_RULES),
        ]
        return tuple(found)
    found.append(plan_source(layout))
    if layout_name == "ESMCS":
        found += [
            Source("medical_claim", "ESMCS", "claim", _MEDICAL_CLAIM_SQL, _MEDICAL_CLAIM_RULES),
            Source(
                "medical_claim_diagnosis",
                "ESMCS",
                "claim",
                _diagnosis_sql(
                    "medical_claim_diagnosis",
                    "medical_claim",
                    "diagnosis_code",
                    "statement_cover_from_date",
                    "statement_cover_to_date",
                ),
                _diagnosis_rules("M209", "M302", "diagnosis_code"),
            ),
            Source("medical_claim_line", "ESMCS", "line", _LINE_SQL, _LINE_RULES),
            Source(
                "medical_claim_line_modifier",
                "ESMCS",
                "line",
                f"SELECT * FROM medical_claim_line_modifier m WHERE {_fid('m')}",
                (Rule("M227", bad_format("service_modifier_code", r"[A-Z0-9]{2}")),),
            ),
        ]
    elif layout_name == "ESPCS":
        found.append(
            Source("pharmacy_claim", "ESPCS", "claim", _PHARMACY_CLAIM_SQL, _PHARMACY_CLAIM_RULES)
        )
    else:
        found += [
            Source(
                "supplemental_record",
                "ESSFS",
                "supplemental",
                _SUPPLEMENTAL_SQL,
                _SUPPLEMENTAL_RULES,
            ),
            Source(
                "supplemental_diagnosis",
                "ESSFS",
                "supplemental",
                _diagnosis_sql(
                    "supplemental_diagnosis",
                    "supplemental_record",
                    "supplemental_diagnosis_code",
                    "service_from_date",
                    "service_to_date",
                ),
                _diagnosis_rules("S210", "S302", "supplemental_diagnosis_code"),
            ),
        ]
    return tuple(found)
