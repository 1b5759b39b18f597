"""Write the Phase 2 RA reports of a scoring run (RACSD, RACSS, RARSD, RARSS, RATEE, RAUF,
HCRPSR, HCRPDE, ECD, ECS) from ``shadow_*``.

``write_phase2_reports`` turns what the shadow computed for a run (claim selection, risk
scores, transfer elements, ``docs/phase2-contract.md``) into the XML reports the EDGE server
would send, for a simulated outbox and as a reference rendering to diff a real server's reports
against.  RATEE is written by default only for a run that has transfer elements
(``shadow_ratee`` rows): a run scored without the transfer step keeps writing the four claim
selection and risk score reports, and never an empty RATEE that would replace a loaded one.
RAUF, HCRPSR and HCRPDE likewise need the transfer estimate (``shadow_rauf``,
``shadow_hcrp_summary``); HCRPDE is then written even when no enrollee is over the threshold
(an empty HCRPDE states that nobody is).

Why it is built this way (as the Phase 1 writer, :mod:`edge_pipeline.edge.outbound.phase1.write`):

* Element names come only from the layouts (``layouts/outbound/ra*.py``); values are written
  by :mod:`~edge_pipeline.edge.outbound.ra.xml`, so the reader gets back exactly the row.
* Streaming: each report is one ordered query fetched in chunks and written as text.  RARSD
  rows carry their enrollee's nested HCCs, sources, RXCs, dropped HCCs and terms as lists, so
  Python holds one chunk of enrollees at a time whatever the issuer's size.
* Deterministic given ``generated_at``: every query has a total order.
* Nothing is lost silently: each report counts what it wrote against the shadow tables and
  refuses (no file) when a row could not be placed (an unknown category, a term of an enrollee
  without a score row, a NULL where the layout requires a value).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

import duckdb

from edge_pipeline.base.warehouse.query import first_row
from edge_pipeline.edge.layouts.outbound import (
    ECD,
    ECS,
    HCRPDE,
    HCRPSR,
    RA_LAYOUTS,
    RACSD,
    RACSS,
    RARSD,
    RARSS,
    RATEE,
    RAUF,
)
from edge_pipeline.edge.layouts.outbound.ecd import ECD_ENTRIES
from edge_pipeline.edge.layouts.outbound.ecs import PLAN_ENROLLEE_CLAIMS
from edge_pipeline.edge.layouts.outbound.hcrpde import ENROLLEE_HCRP
from edge_pipeline.edge.layouts.outbound.hcrpsr import PLAN_HCRP
from edge_pipeline.edge.layouts.outbound.model import Group, Leaf, RaReportLayout
from edge_pipeline.edge.layouts.outbound.racsd import CATEGORY_ELEMENTS, CLAIM_SELECTION
from edge_pipeline.edge.layouts.outbound.racss import CLAIM_SELECTION_COUNT, PLAN_SUMMARY
from edge_pipeline.edge.layouts.outbound.rarsd import (
    DROPPED_HCC,
    ENROLLEE,
    HCC,
    HCC_KINDS,
    HCC_SOURCE,
    RXC,
    RXC_KINDS,
    RXC_SOURCE,
    TERM,
)
from edge_pipeline.edge.layouts.outbound.rarss import FREQUENCIES, PLAN_RATING_AREA
from edge_pipeline.edge.layouts.outbound.ratee import TRANSFER_ELEMENT
from edge_pipeline.edge.layouts.outbound.rauf import USER_FEE
from edge_pipeline.edge.outbound.core.writer import FETCH_ROWS, EdgeServerInfo, fetch
from edge_pipeline.edge.outbound.core.xmlout import XmlStream
from edge_pipeline.edge.outbound.ra.facts import RunFacts, report_path, run_facts, write_header
from edge_pipeline.edge.outbound.ra.summary import (
    RUN,
    category_order,
    mean,
    racss_sql,
    rarss_sql,
    run_params,
    sql_list,
)
from edge_pipeline.edge.outbound.ra.xml import write_entry
from edge_pipeline.edge.ra_runs.runs import ScoringRun

#: Enrollees fetched per round trip while writing a RARSD (each row holds nested lists).
RARSD_FETCH_ROWS = 1_000

#: Reports written by default only when the run has rows in this shadow table (named in
#: ``reports``, they are written regardless, empty if need be).  HCRPDE goes with the HCRP
#: summary: a run whose HCRP was computed states its enrollees over the threshold, even none.
WRITTEN_WITH_ROWS: dict[str, str] = {
    RATEE.name: "shadow_ratee",
    RAUF.name: "shadow_rauf",
    HCRPSR.name: "shadow_hcrp_summary",
    HCRPDE.name: "shadow_hcrp_summary",
    # ECD and ECS: a run selected since claim selection computes them (every plan with
    # enrollees or claims of the year has an ECS row); ECD then states even "no orphans".
    ECD.name: "shadow_ecs",
    ECS.name: "shadow_ecs",
}


def write_phase2_reports(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path | str,
    benefit_year: int,
    issuer_id: str,
    execution_zone: str,
    generated_at: datetime | None = None,
    *,
    reports: Sequence[str] | None = None,
    server: EdgeServerInfo | None = None,
    fetch_rows: int = FETCH_ROWS,
) -> list[Path]:
    """Write the run's RA reports into ``out_dir``; returns their paths (``RA_LAYOUTS`` order:
    RACSD, RACSS, RARSD, RARSS, RATEE, RAUF, HCRPSR, HCRPDE, ECD, ECS, or the subset named in
    ``reports``).

    ``reports=None`` writes RACSD, RACSS, RARSD and RARSS always, and the transfer reports when
    the run has their shadow rows, ECD and ECS when it has ``shadow_ecs`` rows
    (:data:`WRITTEN_WITH_ROWS`); a report named in ``reports`` is written
    even when it has no entry.  ``generated_at`` (default: now, to the second) names the files
    and fills the headers, so the same inputs and time give the same bytes.  Two runs written
    into one folder in the same second would share file names: write each run into its own
    folder (an existing different file is never overwritten,
    :class:`~edge_pipeline.edge.outbound.core.xmlout.XmlStream`).
    """
    names = tuple(layout.name for layout in RA_LAYOUTS)
    unknown = sorted(set(reports or ()) - set(names))
    if unknown:
        raise ValueError(f"not RA reports: {', '.join(unknown)} ({', '.join(names)})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = (generated_at or datetime.now()).replace(microsecond=0)
    facts = run_facts(con, ScoringRun(benefit_year, issuer_id, execution_zone))
    context = _Context(con, facts, out, stamp, server or EdgeServerInfo(), fetch_rows)
    if reports is not None:
        wanted = set(reports)
    else:
        wanted = {
            name
            for name in names
            if name not in WRITTEN_WITH_ROWS or context.has_rows(WRITTEN_WITH_ROWS[name])
        }
    writers: dict[str, Callable[[_Context], Path]] = {
        RACSD.name: write_racsd,
        RACSS.name: write_racss,
        RARSD.name: write_rarsd,
        RARSS.name: write_rarss,
        RATEE.name: write_ratee,
        RAUF.name: lambda ctx: write_rows(ctx, RAUF, USER_FEE, "shadow_rauf"),
        HCRPSR.name: lambda ctx: write_rows(ctx, HCRPSR, PLAN_HCRP, "shadow_hcrp_summary"),
        HCRPDE.name: lambda ctx: write_rows(ctx, HCRPDE, ENROLLEE_HCRP, "shadow_hcrp_enrollee"),
        ECD.name: write_ecd,
        ECS.name: lambda ctx: write_rows(ctx, ECS, PLAN_ENROLLEE_CLAIMS, "shadow_ecs"),
    }
    return [writers[layout.name](context) for layout in RA_LAYOUTS if layout.name in wanted]


class _Context:
    """One run's writing session: connection, run facts, folder, time, identity."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        facts: RunFacts,
        out_dir: Path,
        generated_at: datetime,
        server: EdgeServerInfo,
        fetch_rows: int,
    ) -> None:
        self.con = con
        self.facts = facts
        self.out_dir = out_dir
        self.generated_at = generated_at
        self.server = server
        self.fetch_rows = fetch_rows
        self.params = run_params(facts.run)

    def open(self, layout: RaReportLayout) -> XmlStream:
        out = XmlStream(
            report_path(self.facts, layout, self.out_dir, self.generated_at), layout.root
        )
        write_header(out, self.facts, layout, self.generated_at, self.server)
        return out

    def rows(self, sql: str, rows: int | None = None) -> Iterable[dict[str, Any]]:
        """The query's rows as dicts, fetched in chunks."""
        result = self.con.execute(sql, self.params)
        names = [column[0] for column in result.description]
        for row in fetch(result, rows or self.fetch_rows):
            yield dict(zip(names, row, strict=True))

    def count(self, table: str, where: str = "") -> int:
        row = first_row(self.con, f"SELECT count(*) FROM {table} WHERE {RUN} {where}", self.params)
        return int(row[0]) if row else 0

    def has_rows(self, table: str) -> bool:
        """Whether ``table`` exists and holds rows of the run."""
        exists = first_row(
            self.con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]
        )
        return bool(exists and exists[0]) and self.count(table) > 0

    def check(self, layout: RaReportLayout, written: dict[str, int]) -> None:
        """Refuse the report when it does not hold every shadow row of the run."""
        expected = {table: self.count(table) for table in written}
        wrong = [t for t in written if expected[t] != written[t]]
        if wrong:
            detail = ", ".join(f"{t}: {written[t]} of {expected[t]} rows written" for t in wrong)
            raise ValueError(
                f"{layout.name} of {self.facts.run.label}: shadow rows not placed in the report "
                f"({detail}; an unknown category, a row without its enrollee's score row, or a "
                "duplicate); report not written"
            )


def _columns(group: Group, alias: str = "") -> list[str]:
    prefix = f"{alias}." if alias else ""
    return [f"{prefix}{c.column}" for c in group.children if isinstance(c, Leaf) and c.column]


def _order(columns: list[str]) -> str:
    return ", ".join(f"{column} NULLS FIRST" for column in columns)


def _struct(group: Group, extra: str = "") -> str:
    """``struct_pack`` of a group's leaf columns (plus ``extra`` fields)."""
    fields = [f"{c} := {c}" for c in _columns(group)]
    return "struct_pack(" + ", ".join([*fields, *([extra] if extra else [])]) + ")"


# -- RACSD ------------------------------------------------------------------------------------


def write_racsd(ctx: _Context) -> Path:
    """Every claim selection row of the run, in its category's container (all nine written)."""
    columns = _columns(CLAIM_SELECTION)
    categories = sql_list(tuple(CATEGORY_ELEMENTS))
    sql = f"""
        SELECT category, {", ".join(columns)} FROM shadow_ra_claim_selection
        WHERE {RUN} AND category IN ({categories})
        ORDER BY {category_order()}, {_order(columns)}
    """
    written = 0
    with ctx.open(RACSD) as out:
        stream = groupby(ctx.rows(sql), key=lambda row: row["category"])
        current = next(stream, None)
        for category, element in CATEGORY_ELEMENTS.items():
            out.start(element)
            if current is not None and current[0] == category:
                for row in current[1]:
                    write_entry(out, CLAIM_SELECTION, row)
                    written += 1
                current = next(stream, None)
            out.end(element)
        ctx.check(RACSD, {"shadow_ra_claim_selection": written})
        return out.finish()


# -- RACSS ------------------------------------------------------------------------------------


def write_racss(ctx: _Context) -> Path:
    """Per plan, the claim counts by category, record kind, verdict and reason."""
    counted = 0
    with ctx.open(RACSS) as out:
        for row in ctx.rows(racss_sql()):
            counts = row["counts"] or []

            def write_counts(counts: list[dict[str, Any]] = counts) -> None:
                for count in counts:
                    write_entry(out, CLAIM_SELECTION_COUNT, count)

            write_entry(out, PLAN_SUMMARY, row, {CLAIM_SELECTION_COUNT.name: write_counts})
            counted += sum(count["claim_count"] for count in counts)
        ctx.check(RACSS, {"shadow_ra_claim_selection": counted})
        return out.finish()


# -- RARSD ------------------------------------------------------------------------------------


def _factor_lists(element: Group, source: Group, kinds: tuple[str, ...], key: str) -> str:
    """CTE body: per enrollee, the list of HCCs (or RXCs): terms of ``kinds`` outer-joined to
    their sources on identifier (an HCC with sources but no term of its own is listed too)."""
    source_table = "shadow_risk_hcc_source" if source is HCC_SOURCE else "shadow_risk_rxc_source"
    source_columns = _columns(source)
    return f"""
        SELECT member_id, plan_id,
               list({_struct(element, "sources := sources")}
                    ORDER BY {_order(_columns(element))}) AS items
        FROM (
            SELECT COALESCE(t.member_id, src.member_id) AS member_id,
                   COALESCE(t.plan_id, src.plan_id) AS plan_id,
                   COALESCE(t.variable, src.{key}) AS variable, t.kind, t.coefficient,
                   src.sources
            FROM (SELECT * FROM shadow_risk_score_term
                  WHERE {RUN} AND kind IN ({sql_list(kinds)})) t
            FULL JOIN (
                SELECT member_id, plan_id, {key},
                       list({_struct(source)} ORDER BY {_order(source_columns)}) AS sources
                FROM {source_table} WHERE {RUN} GROUP BY ALL
            ) src ON src.member_id = t.member_id AND src.plan_id = t.plan_id
                 AND src.{key} = t.variable
        ) GROUP BY ALL
    """


def rarsd_sql() -> str:
    """One row per score row of the run, in enrollee order, with its nested lists."""
    enrollee = _columns(ENROLLEE, "s")
    other_kinds = sql_list((*HCC_KINDS, *RXC_KINDS))
    joins = "\n".join(
        f"LEFT JOIN {name} ON {name}.member_id = s.member_id AND {name}.plan_id = s.plan_id"
        for name in ("hccs", "rxcs", "dropped", "terms")
    )
    return f"""
        WITH s AS (SELECT * FROM shadow_risk_score WHERE {RUN}),
        hccs AS ({_factor_lists(HCC, HCC_SOURCE, HCC_KINDS, "hcc")}),
        rxcs AS ({_factor_lists(RXC, RXC_SOURCE, RXC_KINDS, "rxc")}),
        dropped AS (
            SELECT member_id, plan_id,
                   list({_struct(DROPPED_HCC)} ORDER BY {_order(_columns(DROPPED_HCC))}) AS items
            FROM shadow_risk_dropped_hcc WHERE {RUN} GROUP BY ALL
        ),
        terms AS (
            SELECT member_id, plan_id,
                   list({_struct(TERM)} ORDER BY {_order(_columns(TERM))}) AS items
            FROM shadow_risk_score_term
            WHERE {RUN} AND (kind IS NULL OR kind NOT IN ({other_kinds}))
            GROUP BY ALL
        )
        SELECT {", ".join(enrollee)}, hccs.items AS hccs, rxcs.items AS rxcs,
               dropped.items AS dropped, terms.items AS terms
        FROM s
        {joins}
        ORDER BY {_order(enrollee)}
    """


def _write_list(out: XmlStream, group: Group, items: list[dict[str, Any]] | None) -> None:
    for item in items or ():
        write_entry(out, group, item)


def write_rarsd(ctx: _Context) -> Path:
    """Every enrollee x plan score of the run with its HCCs, RXCs, dropped HCCs and terms."""
    written = dict.fromkeys(
        (
            "shadow_risk_score",
            "shadow_risk_score_term",
            "shadow_risk_hcc_source",
            "shadow_risk_rxc_source",
            "shadow_risk_dropped_hcc",
        ),
        0,
    )

    def write_factors(out: XmlStream, group: Group, source: Group, items: list | None) -> None:
        for item in items or ():
            sources = item["sources"] or []
            write_entry(
                out, group, item, {source.name: lambda s=sources: _write_list(out, source, s)}
            )
            written["shadow_risk_score_term"] += int(item["kind"] is not None)
            table = "shadow_risk_hcc_source" if source is HCC_SOURCE else "shadow_risk_rxc_source"
            written[table] += len(sources)

    rows = min(ctx.fetch_rows, RARSD_FETCH_ROWS)
    with ctx.open(RARSD) as out:
        for row in ctx.rows(rarsd_sql(), rows):
            nested = {
                HCC.name: lambda r=row: write_factors(out, HCC, HCC_SOURCE, r["hccs"]),
                RXC.name: lambda r=row: write_factors(out, RXC, RXC_SOURCE, r["rxcs"]),
                DROPPED_HCC.name: lambda r=row: _write_list(out, DROPPED_HCC, r["dropped"]),
                TERM.name: lambda r=row: _write_list(out, TERM, r["terms"]),
            }
            write_entry(out, ENROLLEE, row, nested)
            written["shadow_risk_score"] += 1
            written["shadow_risk_dropped_hcc"] += len(row["dropped"] or ())
            written["shadow_risk_score_term"] += len(row["terms"] or ())
        ctx.check(RARSD, written)
        return out.finish()


# -- RARSS ------------------------------------------------------------------------------------


def write_rarss(ctx: _Context) -> Path:
    """Per plan x rating area: counts, member months, average scores and distributions."""
    with ctx.open(RARSS) as out:
        for row in ctx.rows(rarss_sql()):
            values = {
                **row,
                "average_score_raw": mean(row["sum_raw"], row["n_raw"]),
                "average_score_csr_adjusted": mean(row["sum_csr"], row["n_csr"]),
            }
            nested = {
                group.name: lambda g=group, items=row[name]: _write_list(out, g, items)
                for name, group in FREQUENCIES.items()
            }
            write_entry(out, PLAN_RATING_AREA, values, nested)
        return out.finish()


# -- RATEE, RAUF, HCRPSR, HCRPDE, ECD, ECS: one flat entry per shadow row ---------------------


def write_rows(ctx: _Context, layout: RaReportLayout, entry: Group, table: str) -> Path:
    """Every row of the run in ``table`` as one ``entry``, in the order of the entry's leaves
    (NULL first): for RATEE and RAUF state, risk pool, plan, rating area."""
    return write_lists(ctx, layout, ((entry, table),))


def write_lists(
    ctx: _Context, layout: RaReportLayout, entries: Sequence[tuple[Group, str]]
) -> Path:
    """One flat list per (entry, shadow table), in that order: every row of the run in the
    table as one entry, in the order of the entry's leaves (NULL first)."""
    written: dict[str, int] = {}
    with ctx.open(layout) as out:
        for entry, table in entries:
            columns = _columns(entry)
            sql = f"""
                SELECT {", ".join(columns)} FROM {table}
                WHERE {RUN}
                ORDER BY {_order(columns)}
            """
            written[table] = 0
            for row in ctx.rows(sql):
                write_entry(out, entry, row)
                written[table] += 1
        ctx.check(layout, written)
        return out.finish()


def write_ecd(ctx: _Context) -> Path:
    """The run's orphan claims, then its enrollees without claims."""
    return write_lists(ctx, ECD, ECD_ENTRIES)


def write_ratee(ctx: _Context) -> Path:
    """Every transfer element row of the run, in state, risk pool, plan, rating area order."""
    return write_rows(ctx, RATEE, TRANSFER_ELEMENT, "shadow_ratee")
