"""``edge-pipeline``: the command line over the same domain core the Dagster assets call.

Exit codes: 0 success, 2 bad input (one-line reason on stderr), 1 internal error, 3 the
warehouse is locked by another process (one line naming the file and the process; run the
command again when that process has finished: ``ingest``, ``validate`` and ``load-outbound``
open the warehouse per file, so files loaded before the conflict are kept, and are
``unchanged`` then).
Imports happen inside each command so ``edge-pipeline --help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from edge_pipeline.base.input_errors import UserInputError

if TYPE_CHECKING:
    import duckdb

    from edge_pipeline.base.progress import Progress

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 3
_FILE_RULES = (
    "Each file is recorded as failed, and the others still load, when it is not a regular "
    "file (a FIFO, device or directory), is a symlink inside a directory given, cannot be "
    "read, does not start with XML markup, or is larger than $EDGE_MAX_FILE_BYTES bytes "
    "(default 16 GiB)."
)
_PROGRESS_HELP = "print progress (files, records, rate) to stderr even when it is not a terminal"


class BadInput(Exception):
    """The user's input is wrong (not our bug): exit 2 with a one-line reason."""


def _cmd_synth(args: argparse.Namespace) -> int:
    from edge_pipeline.edge.synth.generate import generate_issuer

    if args.enrollees < 1:
        raise BadInput("--enrollees must be at least 1")
    if not 0.0 <= args.error_rate <= 1.0:
        raise BadInput("--error-rate must be between 0 and 1")
    manifest = generate_issuer(
        Path(args.out),
        enrollees=args.enrollees,
        seed=args.seed,
        benefit_year=args.benefit_year,
        error_rate=args.error_rate,
    )
    for entry in manifest.files:
        print(f"wrote {Path(entry.path).name}")
    print(f"{len(manifest.defects)} injected defects listed in {Path(args.out) / 'manifest.json'}")
    return EXIT_OK


def _progress(args: argparse.Namespace, total_files: int, label: str = "files") -> Progress:
    """Progress on stderr: when it is a terminal, or always with ``--progress``."""
    from edge_pipeline.base.progress import Progress

    return Progress(total_files, enabled=True if args.progress else None, label=label)


def _xml_files(paths: Sequence[str]) -> list[Path]:
    """The ``*.xml`` files ``paths`` name (a directory: the files in it), or ``BadInput``
    naming the first path that does not exist, or saying none holds an XML file."""
    from edge_pipeline.base.file_registry import xml_paths
    from edge_pipeline.base.names import printable_name

    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise BadInput(f"no such file or directory: {printable_name(missing[0])}")
    files = list(xml_paths(paths))
    if not files:
        raise BadInput("no *.xml files found in the given paths")
    return files


def _before_loads(warehouse: str) -> None:
    """Refuse at once what would make every file of a batch fail: an unusable warehouse path
    (before any file is hashed) or ``$EDGE_MAX_FILE_BYTES`` (the loaders' size limit)."""
    from edge_pipeline.base.input_file import max_file_bytes
    from edge_pipeline.base.warehouse.path import check_warehouse_path

    check_warehouse_path(warehouse)
    try:
        max_file_bytes()
    except ValueError as exc:
        raise BadInput(str(exc)) from exc


def _cmd_ingest(args: argparse.Namespace) -> int:
    from edge_pipeline.base.names import printable_name
    from edge_pipeline.edge.warehouse.load import load_path

    files = _xml_files(args.paths)
    _before_loads(args.warehouse)
    progress = _progress(args, len(files))
    results = []
    for path in files:
        # the warehouse is opened per file, once the file is hashed: other writers get the
        # lock between files, and never wait for a hash
        result = load_path(Path(args.warehouse), path)
        results.append(result)
        progress.advance(records=result.records)
    progress.done()
    for r in results:
        detail = f"{r.records} records" if r.status == "loaded" else (r.error or "")
        print(f"{r.status:9} {r.layout or '?':5} {printable_name(r.file_name)}: {detail}")
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"{len(failed)} of {len(results)} files not loaded", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _find_registry(paths: Sequence[str], given: str | None) -> Path:
    """The plan registry: as given, else a ``plan_registry.csv`` beside the inbound files (where
    the synthetic generator writes it)."""
    if given:
        if not Path(given).is_file():
            raise BadInput(f"no such plan registry: {given}")
        return Path(given)
    for item in map(Path, paths):
        candidate = (item if item.is_dir() else item.parent) / "plan_registry.csv"
        if candidate.is_file():
            return candidate
    raise BadInput("no plan_registry.csv beside the inbound files; pass --plan-registry CSV")


def _cmd_validate(args: argparse.Namespace) -> int:
    from datetime import datetime, timedelta

    from edge_pipeline.base.names import printable_name
    from edge_pipeline.base.warehouse.connection import connect
    from edge_pipeline.edge.outbound import write_phase1_reports
    from edge_pipeline.edge.verification import (
        VerificationFailure,
        load_reference_tables,
        verify_all,
    )
    from edge_pipeline.edge.warehouse.load import load_path

    files = _xml_files(args.paths)
    registry = _find_registry(args.paths, args.plan_registry)
    _before_loads(args.warehouse)
    code_lists = [Path(d) for d in args.code_lists] or [registry.parent]
    generated_at = (
        datetime.fromisoformat(args.generated_at) if args.generated_at else datetime.now()
    ).replace(microsecond=0)
    out = Path(args.out)
    progress = _progress(args, len(files))
    loads = []
    for path in files:
        # opened per file once the file is hashed (as `ingest` does): no lock while hashing
        loads.append(load_path(Path(args.warehouse), path))
        progress.advance(records=loads[-1].records)
    progress.done()
    con = connect(Path(args.warehouse))
    try:
        load_reference_tables(con, registry, code_lists)
        # one file's failure (verification or reports) is reported for it; the others go on
        failures: list[VerificationFailure] = []
        results = {r.load_id: r for r in verify_all(con, failures)}
        failed = {f.load_id: f.reason for f in failures}
        for index, load in enumerate(loads):
            load_id, name = load.load_id, printable_name(load.file_name)
            if load.status == "unchanged":  # sent again (e.g. after an interrupted run)
                load_id = _loaded_attempt(con, load.file_identifier, load.sha256)
            if load_id in failed:
                print(f"error     {name}: not verified ({failed[load_id]})")
                continue
            verified = results.get(load_id) if load_id is not None else None
            if load.file_identifier is None or verified is None:
                print(f"{load.status:9} {name}: not verified ({load.error})")
                continue
            # report names carry a timestamp to the second: one second per file keeps them apart
            stamp = generated_at + timedelta(seconds=index)
            try:
                reports = write_phase1_reports(
                    con, load.file_identifier, out, stamp, load_id=load_id
                )
            except Exception as exc:  # reported for this file; the others' are still written
                logging.getLogger("edge_pipeline").debug("reports not written", exc_info=True)
                failed[load_id] = f"internal error {type(exc).__name__}"
                print(f"error     {name}: reports not written ({failed[load_id]})")
                continue
            rejected = sum(n for level, n in verified.rejected.items() if level != "file")
            print(
                f"{verified.status} {verified.layout or '?':5} {name}: "
                f"{rejected} records rejected, {verified.errors} errors -> "
                + ", ".join(p.name for p in reports)
            )
    finally:
        con.close()
    if failed:
        print(f"{len(failed)} file(s) not verified or not reported", file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_OK


def _loaded_attempt(
    con: duckdb.DuckDBPyConnection, file_identifier: str | None, sha256: str
) -> int | None:
    """The load attempt holding an ``unchanged`` file's records, so that a re-run writes its
    Phase 1 reports again (an interrupted run may have stopped before writing them)."""
    return con.execute(
        "SELECT max(load_id) FROM submission_file "
        "WHERE status = 'loaded' AND file_identifier = ? AND sha256 = ?",
        [file_identifier, sha256],
    ).fetchall()[0][0]


def _cmd_load_outbound(args: argparse.Namespace) -> int:
    from edge_pipeline.base.names import printable_name
    from edge_pipeline.edge.outbound.load import load_outbound_path

    files = _xml_files(args.paths)
    _before_loads(args.warehouse)
    # what load_outbound_paths does, one file at a time so progress can be shown
    progress = _progress(args, len(files))
    results = []
    for path in files:
        result = load_outbound_path(Path(args.warehouse), path)
        results.append(result)
        progress.advance(records=sum(result.rows.values()))
    progress.done()
    for r in results:
        name = printable_name(r.file_name)
        print(f"{r.status:9} {r.report_type or '?':7} {name}: {r.error or ''}")
    return EXIT_OK if all(r.ok for r in results) else EXIT_BAD_INPUT


def _cmd_report(args: argparse.Namespace) -> int:
    from edge_pipeline.edge.report import write_report

    paths = write_report(Path(args.warehouse), Path(args.out))
    print(f"wrote {paths.workbook} ({len(paths.sheets)} sheets)")
    print(f"wrote {paths.html} ({len(paths.charts)} charts)")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from edge_pipeline.demo import run_demo

    return run_demo(enrollees=args.enrollees, seed=args.seed, error_rate=args.error_rate)


def _cmd_bench(args: argparse.Namespace) -> int:
    from edge_pipeline.bench import run_ingest_benchmark

    return run_ingest_benchmark(
        Path(args.workdir), target_mb=args.size_mb, baseline_mb=args.baseline_mb, seed=args.seed
    )


def _dagster_instance():  # -> dg.DagsterInstance (dagster imported lazily)
    """The Dagster instance at ``$DAGSTER_HOME``, else ``data/dagster_home`` (what ``make dev``
    and ``make demo`` use); a missing folder is bad input, never created here."""
    import os

    import dagster as dg

    from edge_pipeline.base.folders import data_dir

    home = Path(os.environ.get("DAGSTER_HOME") or data_dir() / "dagster_home")
    if not (home / "dagster.yaml").is_file() and not (home / "storage").is_dir():
        raise BadInput(f"no Dagster instance at {home} (set DAGSTER_HOME)")
    return dg.DagsterInstance.from_config(str(home))


def _cmd_partitions_list(args: argparse.Namespace) -> int:
    from edge_pipeline.defs.inbound.partitions import file_partitions
    from edge_pipeline.defs.reference.partitions import (
        BENEFIT_YEARS_PARTITIONS_NAME,
        registered_years,
    )

    with _dagster_instance() as instance:
        listed = {
            **file_partitions(instance),
            BENEFIT_YEARS_PARTITIONS_NAME: registered_years(instance),
        }
    for name, keys in listed.items():
        if args.kind and name != f"{args.kind}_files":
            continue
        print(f"{name} ({len(keys)}): {', '.join(keys) if keys else '-'}")
    return EXIT_OK


def _cmd_partitions_remove(args: argparse.Namespace) -> int:
    from edge_pipeline.defs.inbound.partitions import registered_kind, remove_file_partition

    key = args.key
    with _dagster_instance() as instance:
        kind = registered_kind(instance, key)
        if args.kind and kind != args.kind:
            raise BadInput(f"{key!r} is not an {args.kind} partition (it is: {kind or 'none'})")
        removed = remove_file_partition(instance, key)
    if not removed and not args.forget:
        raise BadInput(f"no inbound file partition {key!r}")
    if removed:
        print(f"removed partition {key} from {', '.join(removed)}")
    if args.warehouse:
        _warehouse_after_removal(key, args.warehouse, forget=args.forget)
    return EXIT_OK


def _warehouse_after_removal(key: str, warehouse: str, *, forget: bool) -> None:
    """Say what the warehouse still holds of the file, or (``--forget``) take it out."""
    from contextlib import closing

    from edge_pipeline.base.warehouse.connection import connect
    from edge_pipeline.base.warehouse.query import table_exists
    from edge_pipeline.edge.warehouse.forget import forget_files

    with closing(connect(warehouse, read_only=not forget)) as con:
        if forget:
            removed = forget_files(con, [key])
            print(f"forgot {key}: {removed} load attempt(s) and every row derived from them")
            return
        attempts = (
            con.execute(
                "SELECT count(*) FROM submission_file WHERE file_identifier = ?", [key]
            ).fetchone()[0]
            if table_exists(con, "submission_file")
            else 0
        )
    if attempts:
        print(
            f"the warehouse still holds {attempts} load attempt(s) of {key} and their rows; "
            f"add --forget to take them out"
        )
    else:
        print(f"the warehouse holds nothing of {key}")


def _cmd_catalog(args: argparse.Namespace) -> int:
    from edge_pipeline.edge.verification.catalog import write_catalog

    print(f"wrote {write_catalog(Path(args.out))}")
    return EXIT_OK


def _cmd_bench_verify(args: argparse.Namespace) -> int:
    from edge_pipeline.edge.verification.bench import run_verify_benchmark

    return run_verify_benchmark(Path(args.workdir), enrollees=args.enrollees, seed=args.seed)


def _cmd_score(args: argparse.Namespace) -> int:
    from edge_pipeline.base.warehouse.connection import connect
    from edge_pipeline.edge.claim_selection import SelectionInputsMissing
    from edge_pipeline.edge.phase2.pipeline import TransferInputs, run_phase2
    from edge_pipeline.edge.risk import DiyTableError
    from edge_pipeline.edge.transfer import TransferInputError

    if not Path(args.warehouse).exists():
        raise BadInput(f"no such warehouse: {args.warehouse} (run `edge-pipeline validate` first)")
    files = {
        name: Path(value) if value else None
        for name, value in (
            ("gcf", args.gcf),
            ("market_pool", args.market_pool),
            ("user_fee", args.user_fee),
            ("age_curve", args.age_curve),
        )
    }
    missing = [
        f"--{name.replace('_', '-')} {p}" for name, p in files.items() if p and not p.is_file()
    ]
    if missing:
        raise BadInput(f"no such file: {missing[0]}")
    con = connect(Path(args.warehouse))
    try:
        outcomes = run_phase2(
            con,
            args.benefit_year,
            Path(args.out) if args.out else None,
            transfer=TransferInputs(**files),
        )
    except (DiyTableError, TransferInputError) as exc:
        raise BadInput(str(exc)) from exc
    except SelectionInputsMissing as exc:
        raise BadInput(
            f"the warehouse {args.warehouse} has not been verified (no Phase 1 views and "
            "reference tables): run `edge-pipeline validate` first"
        ) from exc
    finally:
        con.close()
    if not outcomes:
        raise BadInput(f"no issuer has active enrollment in benefit year {args.benefit_year}")
    for o in outcomes:
        mean = o.scores.mean_score_csr_adjusted
        print(
            f"{o.run.label}: {o.selection.total} records considered, "
            f"{sum(o.selection.included.values())} included; {o.scores.enrollees} enrollee x plan "
            f"scored, mean CSR-adjusted {mean if mean is None else round(mean, 3)}; "
            f"{o.ratee_rows} RATEE rows, issuer transfer {o.transfer.issuer_transfer:,.2f}"
            + (f" -> {', '.join(p.name for p in o.reports)}" if o.reports else "")
        )
        if o.without_csr_adjusted:
            print(
                f"{o.run.label}: {o.without_csr_adjusted} enrollee x plan scored without a "
                "CSR-adjusted score: left out of PLRS, not scored with the raw score "
                "(check csr_adjusted_scores)"
            )
    return EXIT_OK


def _cmd_score_diy(args: argparse.Namespace) -> int:
    from edge_pipeline.edge.risk.diy_io import DiyInputError, score_diy_files
    from edge_pipeline.edge.risk.diy_tables import DiyTableError

    if not Path(args.input).is_dir():
        raise BadInput(f"no such input directory: {args.input}")
    try:
        count = score_diy_files(Path(args.input), args.benefit_year, Path(args.output))
    except (DiyInputError, DiyTableError) as exc:
        raise BadInput(str(exc)) from exc
    print(f"scored {count} enrollees -> {args.output}")
    return EXIT_OK


def _cmd_transfer(args: argparse.Namespace) -> int:
    from edge_pipeline.edge.transfer import TransferInputError, transfer_pool_file

    if not Path(args.pool).is_file():
        raise BadInput(f"no such pool file: {args.pool}")
    try:
        result = transfer_pool_file(Path(args.pool), Path(args.output))
    except TransferInputError as exc:
        raise BadInput(str(exc)) from exc
    for name, pool in result.pools.items():
        label = f"pool {name}" if name else "pool"
        print(
            f"{label}: {len(pool.plans)} plans, average premium {pool.average_premium:.2f} PMPM, "
            f"transfers sum to {pool.total:.2f}"
        )
    print(f"wrote {result.plans} plans -> {args.output}")
    return EXIT_OK


def _cmd_bench_score(args: argparse.Namespace) -> int:
    from edge_pipeline.edge.risk.bench import run_score_benchmark

    if args.enrollees < 1 or args.baseline_sample < 1:
        raise BadInput("--enrollees and --baseline-sample must be at least 1")
    return run_score_benchmark(
        enrollees=args.enrollees,
        baseline_sample=args.baseline_sample,
        seed=args.seed,
        benefit_year=args.benefit_year,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edge-pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    synth = sub.add_parser("synth", help="generate a synthetic issuer's four inbound files")
    synth.add_argument("--out", required=True, help="output directory")
    synth.add_argument("--enrollees", type=int, required=True)
    synth.add_argument("--seed", type=int, required=True)
    synth.add_argument("--benefit-year", type=int, default=2025)
    synth.add_argument("--error-rate", type=float, default=0.0)
    synth.set_defaults(func=_cmd_synth)

    ingest = sub.add_parser("ingest", help="load inbound XML files into the DuckDB warehouse")
    ingest.add_argument("paths", nargs="+", help="files, or directories meaning their *.xml")
    ingest.epilog = _FILE_RULES
    ingest.add_argument("--warehouse", required=True, help="DuckDB file")
    ingest.add_argument("--progress", action="store_true", help=_PROGRESS_HELP)
    ingest.set_defaults(func=_cmd_ingest)

    validate = sub.add_parser(
        "validate", help="ingest, run the shadow Phase 1 verification, write its reports"
    )
    validate.add_argument("paths", nargs="+", help="inbound files, or directories of *.xml")
    validate.add_argument("--warehouse", required=True, help="DuckDB file")
    validate.add_argument("--out", required=True, help="folder for the Phase 1 reports")
    validate.add_argument("--plan-registry", help="issuer plan registry CSV")
    validate.add_argument(
        "--code-lists", action="append", default=[], help="folder of code_list_*.csv (repeat)"
    )
    validate.add_argument("--generated-at", help="report timestamp YYYY-MM-DDTHH:MM:SS")
    validate.add_argument("--progress", action="store_true", help=_PROGRESS_HELP)
    validate.set_defaults(func=_cmd_validate)

    outbound = sub.add_parser(
        "load-outbound",
        help="load EDGE outbound reports (Phase 1 and RA) into the reported_* tables",
    )
    outbound.add_argument("paths", nargs="+", help="report files, or directories of *.xml")
    outbound.epilog = _FILE_RULES
    outbound.add_argument("--warehouse", required=True, help="DuckDB file")
    outbound.add_argument("--progress", action="store_true", help=_PROGRESS_HELP)
    outbound.set_defaults(func=_cmd_load_outbound)

    demo = sub.add_parser("demo", help="synthetic issuer → Dagster materializations → summary")
    demo.add_argument("--enrollees", type=int, default=2000)
    demo.add_argument("--seed", type=int, default=20250101)
    demo.add_argument("--error-rate", type=float, default=0.02)
    demo.set_defaults(func=_cmd_demo)

    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    ingest_bench = bench_sub.add_parser("ingest", help="ESMCS ingest throughput and peak RSS")
    ingest_bench.add_argument("--workdir", default="bench")
    ingest_bench.add_argument("--size-mb", type=int, default=500)
    ingest_bench.add_argument("--baseline-mb", type=int, default=50)
    ingest_bench.add_argument("--seed", type=int, default=7)
    ingest_bench.set_defaults(func=_cmd_bench)
    verify_bench = bench_sub.add_parser(
        "verify", help="Phase 1 verification records/s against plain ingest"
    )
    verify_bench.add_argument("--workdir", default="bench/verify")
    # 150,000 enrollees give an ESMCS of just over 500 MB, with an ESES it can be checked against
    verify_bench.add_argument("--enrollees", type=int, default=150_000)
    verify_bench.add_argument("--seed", type=int, default=7)
    verify_bench.set_defaults(func=_cmd_bench_verify)
    score_bench = bench_sub.add_parser(
        "score", help="HHS-HCC scoring enrollees/s against a per-enrollee Python baseline"
    )
    score_bench.add_argument("--enrollees", type=int, default=1_000_000)
    score_bench.add_argument("--baseline-sample", type=int, default=20_000)
    score_bench.add_argument("--seed", type=int, default=7)
    score_bench.add_argument("--benefit-year", type=int, default=2025)
    score_bench.set_defaults(func=_cmd_bench_score)

    score = sub.add_parser(
        "score",
        help="Phase 2 of a verified warehouse: RA claim selection, risk scores, RA reports",
    )
    score.add_argument("--warehouse", required=True, help="a warehouse `validate` verified")
    score.add_argument("--benefit-year", type=int, required=True)
    score.add_argument("--out", help="folder for the RA reports (RACSD ... HCRPDE, ECD, ECS)")
    score.add_argument("--gcf", help="CSV state,rating_area,gcf (default: GCF 1.0)")
    score.add_argument("--market-pool", help="CSV of the other issuers' plans per risk pool")
    score.add_argument("--user-fee", help="CSV benefit_year,user_fee_pmpm (default: HHS values)")
    score.add_argument("--age-curve", help="state age rating curve CSV (default: federal)")
    score.set_defaults(func=_cmd_score)

    score_diy = sub.add_parser(
        "score-diy", help="score DIY input CSVs (PERSON, DIAGNOSES, NDC, HCPCS) with the DIY tables"
    )
    score_diy.add_argument("--benefit-year", type=int, required=True)
    score_diy.add_argument("--input", required=True, help="folder of the DIY input CSV files")
    score_diy.add_argument("--output", required=True, help="CSV: ID,SCORE_RAW,SCORE_CSR_ADJUSTED")
    score_diy.set_defaults(func=_cmd_score_diy)

    transfer = sub.add_parser(
        "transfer", help="RA state payment transfer (spec section 8) of the plans of a pool CSV"
    )
    transfer.add_argument(
        "--pool",
        required=True,
        help="CSV: plan_id,metal,billable_member_months,plrs,arf,gcf,premium_pmpm[,pool][,rating_area]",
    )
    transfer.add_argument(
        "--output",
        required=True,
        help="CSV: the input columns plus idf,av,share,transfer_pmpm,transfer_total",
    )
    transfer.set_defaults(func=_cmd_transfer)

    report = sub.add_parser(
        "report", help="analyst report: Excel workbook and self-contained HTML with charts"
    )
    report.add_argument("--warehouse", required=True, help="DuckDB file")
    report.add_argument("--out", required=True, help="folder for edge-report.xlsx/.html")
    report.set_defaults(func=_cmd_report)

    _add_partitions_parser(sub)

    catalog = sub.add_parser("catalog", help="write the Phase 1 error catalog as Markdown")
    catalog.add_argument("--out", default="docs/error-catalog.md")
    catalog.set_defaults(func=_cmd_catalog)
    return parser


def _add_partitions_parser(sub: argparse._SubParsersAction) -> None:
    from edge_pipeline.edge.layouts import INBOUND_LAYOUTS

    kinds = [layout.name.lower() for layout in INBOUND_LAYOUTS]
    partitions = sub.add_parser(
        "partitions", help="list or remove the Dagster partitions of inbound files ($DAGSTER_HOME)"
    )
    partitions_sub = partitions.add_subparsers(dest="partitions", required=True)
    listing = partitions_sub.add_parser("list", help="registered partitions per definition")
    listing.add_argument("--kind", choices=kinds, help="only this file type's partitions")
    listing.set_defaults(func=_cmd_partitions_list)
    remove = partitions_sub.add_parser(
        "remove",
        help="delete a file's partition (its type's and inbound_files); runs and events stay",
    )
    remove.add_argument("key", help="the partition key (fileIdentifier)")
    remove.add_argument("--kind", choices=kinds, help="refuse unless the key is of this type")
    remove.add_argument(
        "--warehouse", help="DuckDB file: say what it still holds of the file (or --forget it)"
    )
    remove.add_argument(
        "--forget",
        action="store_true",
        help="also delete the file and everything derived from it from --warehouse",
    )
    remove.set_defaults(func=_cmd_partitions_remove)


def _lock_conflict(exc: Exception) -> Exception | None:
    """``exc`` as the one-line warehouse-locked error if it is DuckDB's file-lock conflict."""
    if "duckdb" not in sys.modules:  # not raised by DuckDB; keeps the loader's imports lazy
        return None
    from edge_pipeline.base.warehouse.connection import lock_conflict

    return lock_conflict(exc)


def _disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is a full disk (``ENOSPC``), as the OS or DuckDB reports it."""
    import errno

    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or (
        "No space left on device" in str(exc)
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into `head` and closed: not an error of ours
        sys.stderr.close()
        return EXIT_OK
    except (BadInput, UserInputError) as exc:
        print(f"edge-pipeline: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        print(f"edge-pipeline: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # the last line of defence: one line, exit 1
        locked = _lock_conflict(exc)
        if locked is not None:  # another process has the warehouse: retryable, not our bug
            print(f"edge-pipeline: {locked}", file=sys.stderr)
            return EXIT_LOCKED
        logging.getLogger("edge_pipeline").debug("internal error", exc_info=True)
        if _disk_full(exc):  # not our bug either: say so, with DuckDB's own words
            print(f"edge-pipeline: no space left on device: {_one_line(exc)}", file=sys.stderr)
            return EXIT_INTERNAL
        print(f"edge-pipeline: internal error: {exc!r}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
