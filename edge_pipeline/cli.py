"""``edge-pipeline``: the command line over the same domain core the Dagster assets call.

Exit codes: 0 success, 2 bad input (one-line reason on stderr), 1 internal error.
Imports happen inside each command so ``edge-pipeline --help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


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


def _cmd_ingest(args: argparse.Namespace) -> int:
    from edge_pipeline.edge.warehouse.load import inbound_paths, load_paths

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise BadInput(f"no such file or directory: {missing[0]}")
    if not list(inbound_paths(args.paths)):
        raise BadInput("no *.xml files found in the given paths")
    results = load_paths(args.paths, Path(args.warehouse))
    for r in results:
        detail = f"{r.records} records" if r.status == "loaded" else (r.error or "")
        print(f"{r.status:9} {r.layout or '?':5} {r.file_name}: {detail}")
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"{len(failed)} of {len(results)} files not loaded", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from edge_pipeline.demo import run_demo

    return run_demo(enrollees=args.enrollees, seed=args.seed, error_rate=args.error_rate)


def _cmd_bench(args: argparse.Namespace) -> int:
    from edge_pipeline.bench import run_ingest_benchmark

    return run_ingest_benchmark(
        Path(args.workdir), target_mb=args.size_mb, baseline_mb=args.baseline_mb, seed=args.seed
    )


def _cmd_catalog(args: argparse.Namespace) -> int:
    from edge_pipeline.edge.verification.catalog import write_catalog

    print(f"wrote {write_catalog(Path(args.out))}")
    return EXIT_OK


def _cmd_bench_verify(args: argparse.Namespace) -> int:
    from edge_pipeline.edge.verification.bench import run_verify_benchmark

    return run_verify_benchmark(Path(args.workdir), enrollees=args.enrollees, seed=args.seed)


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
    ingest.add_argument("--warehouse", required=True, help="DuckDB file")
    ingest.set_defaults(func=_cmd_ingest)

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
    verify_bench.add_argument("--enrollees", type=int, default=100_000)
    verify_bench.add_argument("--seed", type=int, default=7)
    verify_bench.set_defaults(func=_cmd_bench_verify)

    catalog = sub.add_parser("catalog", help="write the Phase 1 error catalog as Markdown")
    catalog.add_argument("--out", default="docs/error-catalog.md")
    catalog.set_defaults(func=_cmd_catalog)
    return parser


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
    except BadInput as exc:
        print(f"edge-pipeline: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        print(f"edge-pipeline: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # the last line of defence: one line, exit 1
        logging.getLogger("edge_pipeline").debug("internal error", exc_info=True)
        print(f"edge-pipeline: internal error: {exc!r}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
