"""Test support for the outbound reports: small inbound files, loaded, with shadow rows.

The verification engine that fills ``shadow_*`` is written elsewhere, so these tests make their
own shadow rows: real inbound files (written with the project's writer, loaded with the
project's loader) plus injected errors, run through a *forward* implementation of the cascade
of spec section 4 (errors -> statuses -> reasons).  The reader derives reasons backwards from
a report, so the round trip checks one against the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from edge_pipeline.edge.layouts import BY_TYPE, FileLayout
from edge_pipeline.edge.verification.frequency import store_frequencies
from edge_pipeline.edge.verification.schema import ensure_shadow_schema
from edge_pipeline.edge.warehouse.load import load_file
from edge_pipeline.edge.writers import SubmissionWriter

ISSUER = "12345"
PLAN_A = "12345NC001000101"
PLAN_B = "12345NC001000305"
VERIFIED_AT = datetime(2025, 4, 2, 9, 30, 15)

#: Level -> landing column holding the business key the detail reports echo.
KEY_COLUMNS = {
    "issuer": "issuer_identifier",
    "plan": "insurance_plan_identifier",
    "enrollee": "insured_member_identifier",
    "claim": "claim_identifier",
    "supplemental": "supplemental_diagnosis_detail_record_identifier",
}
#: Levels whose failure of one child rejects the record and all its children (ESMCS claims).
GROUP_LEVELS = {"M": {"claim"}}


@dataclass(frozen=True)
class Err:
    """An injected error (one ``shadow_record_error`` row)."""

    element: str | None
    value: str | None
    code: str
    kind: str = "face"
    message: str | None = "value is not valid"


@dataclass
class Scenario:
    """One inbound file and the errors its shadow verification finds."""

    submission_type: str
    file_identifier: str
    header_errors: list[Err] = field(default_factory=list)
    #: recordIdentifier -> errors of that record
    record_errors: dict[int, list[Err]] = field(default_factory=dict)
    zone: str = "T"


def _header(layout: FileLayout, file_identifier: str, zone: str) -> dict[str, str]:
    return {
        "file_identifier": file_identifier,
        "execution_zone": zone,
        "icd_release": "02.01.10",
        "generation_datetime": "2025-04-01T08:00:00",
        "submission_type": layout.submission_type,
    }


def _period(plan: str, start: str, end: str, subscriber: bool = True) -> dict[str, Any]:
    return {
        "subscriber_indicator": "S" if subscriber else "",
        "subscriber_identifier": "",
        "insurance_plan_identifier": plan,
        "coverage_start_date": start,
        "coverage_end_date": end,
        "enrollment_maintenance_type_code": "021028",
        "insurance_plan_premium_amount": "450.00",
        "rate_area_identifier": "001",
    }


def _medical_claim(n: int, form: str, date: str, lines: int) -> dict[str, Any]:
    return {
        "insured_member_identifier": f"M{n:03d}",
        "form_type_code": form,
        "claim_identifier": f"C{n:03d}",
        "original_claim_identifier": "",
        "claim_processed_datetime": "2025-03-02T08:30:00",
        "void_replace_code": "",
        "diagnosis_type_code": "02",
        "diagnosis_code": ["E119"],
        "statement_cover_from_date": date,
        "statement_cover_to_date": date,
        "billing_provider_id_qualifier": "XX",
        "billing_provider_identifier": "1234567893",
        "issuer_claim_paid_date": "2025-03-10",
        "allowed_total_amount": "100.00",
        "policy_paid_total_amount": "80.00",
        "derived_service_claim_indicator": "N",
        "line": [
            {
                "service_line_number": str(i + 1),
                "service_from_date": date,
                "service_to_date": date,
                "service_code": "99213",
                "allowed_amount": "50.00",
                "policy_paid_amount": "40.00",
                "derived_service_claim_indicator": "N",
            }
            for i in range(lines)
        ],
    }


def _pharmacy_claim(n: int, fill_date: str) -> dict[str, Any]:
    return {
        "insured_member_identifier": f"M{n:03d}",
        "claim_identifier": f"RX{n:03d}",
        "original_claim_identifier": "",
        "void_replace_code": "",
        "claim_processed_datetime": "2025-03-02T08:30:00",
        "prescription_fill_date": fill_date,
        "issuer_claim_paid_date": "2025-03-05",
        "prescription_service_reference_number": f"REF{n}",
        "national_drug_code": "00002143380",
        "dispensing_provider_id_qualifier": "01",
        "dispensing_provider_identifier": "1234567893",
        "prescription_fill_number": "0",
        "dispensing_status_code": "",
        "allowed_total_cost_amount": "15.00",
        "policy_paid_amount": "12.50",
        "derived_service_claim_indicator": "N",
    }


def _supplemental(n: int, date: str) -> dict[str, Any]:
    return {
        "insured_member_identifier": f"M{n:03d}",
        "supplemental_diagnosis_detail_record_identifier": f"S{n:03d}",
        "original_claim_identifier": f"C{n:03d}",
        "detail_record_processed_datetime": "2025-04-01T09:00:00",
        "add_delete_void_code": "A",
        "original_supplemental_detail_id": "",
        "service_from_date": date,
        "service_to_date": date,
        "diagnosis_type_code": "02",
        "supplemental_diagnosis_code": ["E1122"],
        "source_code": "MR",
    }


def write_inbound(out_dir: Path, scenario: Scenario) -> Path:
    """A small inbound file of the scenario's type (record identifiers documented inline)."""
    layout = BY_TYPE[scenario.submission_type]
    path = out_dir / f"{ISSUER}.{layout.submission_type}.{scenario.file_identifier}.xml"
    header = _header(layout, scenario.file_identifier, scenario.zone)
    with SubmissionWriter(layout, path, header, {"issuer_identifier": ISSUER}) as w:
        if layout.name == "ESES":
            # 1 issuer; 2 enrollee M001 (3, 4 periods); 5 enrollee M002 (6); 7 M003 (8, 9);
            # 10 M004 (11: unreadable dates)
            w.write(
                {
                    "insured_member_identifier": "M001",
                    "insured_member_birth_date": "1980-05-17",
                    "insured_member_gender_code": "F",
                    "enrollment_period": [
                        _period(PLAN_A, "2024-12-15", "2025-02-10"),
                        _period(PLAN_B, "2025-03-01", "2025-03-31"),
                    ],
                }
            )
            w.write(
                {
                    "insured_member_identifier": "M002",
                    "insured_member_birth_date": "1990-01-01",
                    "insured_member_gender_code": "M",
                    "enrollment_period": [_period(PLAN_A, "2025-01-01", "2025-12-31")],
                }
            )
            w.write(
                {
                    "insured_member_identifier": "M003",
                    "insured_member_birth_date": "2001-02-03",
                    "insured_member_gender_code": "F",
                    "enrollment_period": [
                        _period(PLAN_B, "2025-01-01", "2025-01-31"),
                        _period(PLAN_B, "2025-02-01", "2025-02-28"),
                    ],
                }
            )
            w.write(
                {
                    "insured_member_identifier": "M004",
                    "insured_member_birth_date": "2001-02-03",
                    "insured_member_gender_code": "U",
                    "enrollment_period": [_period(PLAN_A, "04/01/2025", "2025-06-30")],
                }
            )
        elif layout.name == "ESMCS":
            # 1 issuer; 2 plan A: 3 claim C001 (4, 5 lines), 6 C002 (7, 8), 9 C003 (10);
            # 11 plan B: 12 C004 (13), 14 C005 (15, 16)
            w.begin_group({"insurance_plan_identifier": PLAN_A})
            w.write(_medical_claim(1, "P", "2025-01-10", 2))
            w.write(_medical_claim(2, "I", "2025-01-20", 2))
            w.write(_medical_claim(3, "P", "2025-02-05", 1))
            w.end_group()
            w.begin_group({"insurance_plan_identifier": PLAN_B})
            w.write(_medical_claim(4, "P", "2025-02-05", 1))
            w.write(_medical_claim(5, "I", "2025/02/05", 2))
            w.end_group()
        elif layout.name == "ESPCS":
            # 1 issuer; 2 plan A: 3 RX001, 4 RX002, 5 RX003; 6 plan B: 7 RX004, 8 RX005
            w.begin_group({"insurance_plan_identifier": PLAN_A})
            w.write(_pharmacy_claim(1, "2025-01-10"))
            w.write(_pharmacy_claim(2, "2025-01-11"))
            w.write(_pharmacy_claim(3, "2025-03-01"))
            w.end_group()
            w.begin_group({"insurance_plan_identifier": PLAN_B})
            w.write(_pharmacy_claim(4, "2025-02-01"))
            w.write(_pharmacy_claim(5, "bad-date"))
            w.end_group()
        else:
            # 1 issuer; 2 plan A: 3 S001, 4 S002; 5 plan B: 6 S003
            w.begin_group({"insurance_plan_identifier": PLAN_A})
            w.write(_supplemental(1, "2025-01-10"))
            w.write(_supplemental(2, "2025-02-10"))
            w.end_group()
            w.begin_group({"insurance_plan_identifier": PLAN_B})
            w.write(_supplemental(3, "2025-02-11"))
            w.end_group()
    return path


@dataclass
class _Node:
    rid: int
    level: str
    parent: _Node | None
    key: str | None
    errors: list[Err]
    children: list[_Node] = field(default_factory=list)
    status: str = "A"
    reason: str | None = None

    @property
    def failed_self(self) -> bool:
        return bool(self.errors)


def _records(con: duckdb.DuckDBPyConnection, layout: FileLayout, fid: str) -> list[_Node]:
    """The file's records from the landing tables, linked to their parents."""
    nodes: dict[tuple[str, int], _Node] = {}
    ordered: list[_Node] = []
    for record, ancestors in layout.records():
        key = KEY_COLUMNS.get(record.level)
        parent_key = ancestors[-1].parent_key if ancestors else None
        select = ", ".join(["record_identifier", parent_key or "NULL", key or "NULL"])
        rows = con.execute(
            f"SELECT {select} FROM {record.table} WHERE file_identifier = ? "
            "ORDER BY record_identifier",
            [fid],
        ).fetchall()
        for rid, parent_rid, key_value in rows:
            parent = nodes[(ancestors[-1].level, parent_rid)] if ancestors else None
            node = _Node(rid, record.level, parent, key_value, [])
            if parent is not None:
                parent.children.append(node)
            nodes[(record.level, rid)] = node
            ordered.append(node)
    return ordered


def _cascade(nodes: list[_Node], header_rejected: bool, group_levels: set[str]) -> None:
    """Spec section 4, forward: own failures, then top-down, then bottom-up rejection, with
    the verification engine's precedence (header first, then own errors)."""

    def rejects_subtree(node: _Node) -> bool:
        return node.failed_self or (
            node.level in group_levels and any(c.failed_self for c in node.children)
        )

    for node in nodes:  # parents come before children
        chain = []
        ancestor = node.parent
        while ancestor is not None:
            chain.append(ancestor)
            ancestor = ancestor.parent
        cascading = [a for a in reversed(chain) if rejects_subtree(a)]
        if header_rejected:
            node.status, node.reason = "R", "header_rejected"
        elif node.failed_self:
            node.status, node.reason = "R", "own_error"
        elif cascading:
            node.status, node.reason = "R", f"{cascading[0].level}_rejected"
        elif node.level in group_levels and any(c.failed_self for c in node.children):
            node.status, node.reason = "R", f"{node.level}_rejected"
    for node in reversed(nodes):  # children before parents
        if node.status == "A" and node.children and all(c.status == "R" for c in node.children):
            node.status, node.reason = "R", "all_children_rejected"


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = list(rows[0])
    marks = ", ".join("?" for _ in names)
    con.executemany(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
        [[row[name] for name in names] for row in rows],
    )


def build_shadow(con: duckdb.DuckDBPyConnection, scenario: Scenario) -> int:
    """Fill ``shadow_*`` for the (loaded) scenario file as the verification engine would, in
    the engine's own tables; returns the verified ``load_id``."""
    ensure_shadow_schema(con)
    layout = BY_TYPE[scenario.submission_type]
    fid = scenario.file_identifier
    nodes = _records(con, layout, fid)
    for node in nodes:
        node.errors = list(scenario.record_errors.get(node.rid, []))
    header_rejected = bool(scenario.header_errors)
    _cascade(nodes, header_rejected, GROUP_LEVELS.get(scenario.submission_type, set()))
    (load_id,) = con.execute(
        "SELECT max(load_id) FROM submission_file WHERE file_identifier = ? AND status = 'loaded'",
        [fid],
    ).fetchone()
    attempt = {"load_id": load_id, "file_identifier": fid}
    errors = [
        {**attempt, "record_identifier": None, "level": "file", "error": e}
        for e in scenario.header_errors
    ] + [
        {**attempt, "record_identifier": n.rid, "level": n.level, "error": e}
        for n in nodes
        for e in n.errors
    ]
    _insert(
        con,
        "shadow_file_status",
        [
            {
                **attempt,
                "submission_type": scenario.submission_type,
                "execution_zone": scenario.zone,
                "issuer_id": ISSUER,
                "status": "R" if header_rejected else "A",
                "verified_at": VERIFIED_AT,
                "layout": layout.name,
                "error_count": len(errors),
            }
        ],
    )
    _insert(
        con,
        "shadow_record_status",
        [
            {
                **attempt,
                "record_identifier": n.rid,
                "level": n.level,
                "parent_record_identifier": n.parent.rid if n.parent else None,
                "record_key": n.key,
                "status": n.status,
                "failed_self": n.failed_self,
                "rejection_reason": n.reason,
            }
            for n in nodes
        ],
    )
    _insert(
        con,
        "shadow_record_error",
        [
            {
                **{k: v for k, v in row.items() if k != "error"},
                "element": row["error"].element,
                "value": row["error"].value,
                "error_code": row["error"].code,
                "check_kind": row["error"].kind,
                "message": row["error"].message,
            }
            for row in errors
        ],
    )
    summary = [
        {
            **attempt,
            "level": "file",
            "received": 1,
            "accepted": 0 if header_rejected else 1,
            "rejected": 1 if header_rejected else 0,
        }
    ]
    for level in dict.fromkeys(n.level for n in nodes):
        at_level = [n for n in nodes if n.level == level]
        accepted = sum(n.status == "A" for n in at_level)
        summary.append(
            {
                **attempt,
                "level": level,
                "received": len(at_level),
                "accepted": accepted,
                "rejected": len(at_level) - accepted,
            }
        )
    _insert(con, "shadow_level_summary", summary)
    # the frequency shadow is SQL over the statuses above, as the engine computes it
    store_frequencies(con, load_id, scenario.file_identifier, scenario.submission_type)
    return load_id


def prepare(con: duckdb.DuckDBPyConnection, inbox: Path, scenario: Scenario) -> int:
    """Write, load and shadow-verify the scenario's inbound file; returns its ``load_id``."""
    inbox.mkdir(parents=True, exist_ok=True)
    path = write_inbound(inbox, scenario)
    result = load_file(con, path, parallel=False)
    assert result.status == "loaded", result.error
    return build_shadow(con, scenario)


def rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    where: str = "",
    params: Mapping[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """The table's rows as sorted tuples of ``columns`` (NULLs sort first)."""
    select = ", ".join(columns)
    found = con.execute(f"SELECT {select} FROM {table} {where}", params or {}).fetchall()
    return sorted(found, key=lambda row: tuple((v is not None, str(v)) for v in row))
