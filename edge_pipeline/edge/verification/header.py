"""File-level checks: the header of spec section 2 and the file control totals.

They read the file's ``submission_file`` row (the loader keeps the header there as raw text),
so they also apply to load attempts that stored no records: a ``refused`` attempt reused a
fileIdentifier (H401) and a ``failed`` one could not be read (H207).  Any error here rejects the
whole file.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts import BY_NAME, FileLayout
from edge_pipeline.edge.sql import as_timestamp, bad_format, bad_timestamp, blank, not_in, present
from edge_pipeline.edge.verification.rules import Rule, Source, _total_rules, actual_totals

RELEASE_RE = r"\d{2}\.\d{2}\.\d{2}"

_HEADER_RULES = (
    Rule("H101", blank("file_identifier")),
    Rule("H102", blank("execution_zone")),
    Rule("H103", blank("icd_release")),
    Rule("H104", blank("generation_datetime")),
    Rule("H105", blank("submission_type")),
    Rule("H201", f"{present('file_identifier')} AND length(file_identifier) <> 12"),
    Rule("H202", not_in("execution_zone", ("T", "P", "V"))),
    Rule("H203", bad_format("icd_release", RELEASE_RE)),
    Rule("H204", bad_timestamp("generation_datetime")),
    Rule("H205", not_in("submission_type", ("E", "M", "P", "S"))),
    Rule("H207", "status = 'failed'", "error_element", "coalesce(error_element, '(file)')"),
    Rule(
        "H401",
        "EXISTS (SELECT 1 FROM submission_file o WHERE o.file_identifier = src.file_identifier "
        "AND o.load_id <> src.load_id AND o.status = 'loaded' "
        "AND o.execution_zone IS NOT DISTINCT FROM src.execution_zone "
        "AND (src.status <> 'loaded' OR o.load_id < src.load_id))",
    ),
    Rule("H402", f"{as_timestamp('generation_datetime')} > loaded_at"),
)


def header_source(layout_name: str | None) -> Source:
    """The file-level source of one load attempt (``$lid``); totals only when the layout is
    known and the file's records were loaded."""
    rules = list(_HEADER_RULES)
    if layout_name is None:
        sql = "SELECT NULL::BIGINT AS record_identifier, f.* FROM submission_file f"
    else:
        layout = BY_NAME[layout_name]
        columns, joins = [], []
        for i, (column, subquery) in enumerate(actual_totals(layout, None)):
            columns.append(f"t{i}.v AS _actual_{column}")
            joins.append(f"LEFT JOIN {subquery} t{i} ON TRUE")
        columns.append(f"({_repeated_identifier_sql(layout)}) AS _repeated_id")
        select = ", ".join(["NULL::BIGINT AS record_identifier", "f.*", *columns])
        sql = f"SELECT {select} FROM submission_file f {' '.join(joins)}"
        rules.append(
            Rule(
                "H403",
                f"submission_type IN ('E', 'M', 'P', 'S') "
                f"AND submission_type <> '{layout.submission_type}'",
            )
        )
        rules += _total_rules(layout.totals, layout, ("H106", "H206", "H404"), "status = 'loaded'")
        rules.append(
            Rule(
                "H405",
                "status = 'loaded' AND _repeated_id IS NOT NULL",
                "_repeated_id",
                "'recordIdentifier'",
            )
        )
    return Source("file", layout_name or "?", "file", f"{sql} WHERE f.load_id = $lid", tuple(rules))


def _repeated_identifier_sql(layout: FileLayout) -> str:
    """The smallest recordIdentifier two records of the file share (any record types), else
    NULL.  Such records cannot be told apart (their children name their parent by it, the
    reports echo it), so the whole file is rejected (H405) instead of judging them."""
    ids = " UNION ALL ".join(
        f"SELECT record_identifier FROM {record.table} WHERE file_identifier = $fid"
        for record, _ in layout.records()
    )
    return (
        f"SELECT min(record_identifier) FROM (SELECT record_identifier FROM ({ids}) "
        "GROUP BY record_identifier HAVING count(*) > 1)"
    )
