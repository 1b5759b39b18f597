"""A small Great Expectations 1.x runner: one pandas frame, one suite, one plain outcome.

Why a wrapper: the reconciliation checks want GX's vocabulary (expectations, success,
statistics, unexpected rows) but not its objects.  A GX result holds numpy scalars, pandas
indexes and the whole expectation configuration; none of that belongs in Dagster metadata or
in a test assertion.  :func:`run_suite` therefore

* imports ``great_expectations`` lazily (the import takes seconds; modules that only build
  frames stay cheap) with ``GX_ANALYTICS_ENABLED=false`` set before it, so nothing is sent
  anywhere;
* builds an *ephemeral* context (nothing written to disk), a pandas data source with one
  whole-dataframe batch definition, an ``ExpectationSuite`` from :class:`Expect` specs and a
  ``ValidationDefinition``, and runs it with the ``COMPLETE`` result format;
* returns a :class:`SuiteOutcome` of plain Python values, each failed expectation with a
  sample of the frame's rows that failed it (looked up by the pandas index GX reports).

Callers are responsible for the frame: it must never carry a member identifier, name or birth
date, because its rows become metadata.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

#: Rows of a failed expectation kept in the outcome (the frame holds them all).
SAMPLE_ROWS = 20


@dataclass(frozen=True)
class Expect:
    """One expectation, declaratively: its GX type in snake case and its keyword arguments,
    e.g. ``Expect("expect_column_values_to_not_be_null", {"column": "x"}, "every x is set")``.

    ``description`` says, in the domain's words, what a failure means (shown in metadata).
    """

    type: str
    kwargs: Mapping[str, Any]
    description: str = ""


@dataclass(frozen=True)
class Frame:
    """One pandas frame and the expectations it must meet (one GX suite)."""

    name: str
    data: pd.DataFrame
    expectations: Sequence[Expect]


@dataclass(frozen=True)
class FailedExpectation:
    """An expectation a frame did not meet, with a sample of the offending rows."""

    frame: str
    expectation_type: str
    column: str | None
    kwargs: dict[str, Any]
    unexpected_count: int | None
    unexpected_rows: list[dict[str, Any]]
    description: str = ""
    observed_value: Any = None  # aggregate expectations (sums, row counts)


@dataclass(frozen=True)
class SuiteOutcome:
    """Result of one check's suites on its frames: plain values only (no GX object).

    ``statistics`` are GX's (evaluated / successful / unsuccessful expectations, success
    percent) summed over the frames; ``rows`` is the row count of each frame.
    """

    suite: str
    success: bool
    statistics: dict[str, Any]
    failed: list[FailedExpectation] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    def failed_types(self) -> list[str]:
        return [f.expectation_type for f in self.failed]

    def failure(self, expectation_type: str, column: str | None = None) -> FailedExpectation:
        """The failed expectation of that type (and column); ``KeyError`` when it passed."""
        for failed in self.failed:
            if failed.expectation_type == expectation_type and (
                column is None or failed.column == column
            ):
                return failed
        raise KeyError((expectation_type, column))


@dataclass(frozen=True)
class QualityCheck:
    """What a reconciliation check hands to its caller: the suite outcome and the rows its
    metadata lists (e.g. the unlinked supplemental records), all free of member data."""

    scope: str  # the scoring run (or year) checked, as logs name it
    outcome: SuiteOutcome
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.outcome.success


def plain(value: Any) -> Any:
    """A JSON-friendly Python value: numpy scalars unwrapped, NaN/NaT as ``None``, decimals and
    dates as strings, tuples and lists element-wise."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.isoformat()
    return value


def _class_name(expectation_type: str) -> str:
    """``expect_column_values_to_be_between`` -> ``ExpectColumnValuesToBeBetween``."""
    return "".join(part.capitalize() for part in expectation_type.split("_"))


def _import_gx() -> Any:
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx  # slow: seconds (see the module doc)

    return gx


def _sample(frame: pd.DataFrame, index: Sequence[Any], limit: int) -> list[dict[str, Any]]:
    rows = []
    for label in list(index)[:limit]:
        if label not in frame.index:
            continue
        rows.append({c: plain(v) for c, v in frame.loc[label].to_dict().items()})
    return rows


def run_suite(
    name: str, frames: Frame | Sequence[Frame], *, sample_rows: int = SAMPLE_ROWS
) -> SuiteOutcome:
    """Validate each frame against its expectations in one ephemeral GX context (one pandas
    data source, per frame a whole-dataframe batch definition, an ``ExpectationSuite`` and a
    ``ValidationDefinition``) and merge the results.

    Raises ``ValueError`` for an expectation type GX does not know, or two identical
    expectations on one frame (GX would silently keep one).
    """
    frames = [frames] if isinstance(frames, Frame) else list(frames)
    gx = _import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas(f"{name}_source")
    failed: list[FailedExpectation] = []
    totals = {"evaluated_expectations": 0, "successful_expectations": 0}
    success = True
    for frame in frames:
        suite_name = f"{name}.{frame.name}"
        batch = source.add_dataframe_asset(frame.name).add_batch_definition_whole_dataframe(
            f"{frame.name}_batch"
        )
        suite = context.suites.add(gx.ExpectationSuite(name=suite_name))
        by_id: dict[str, tuple[int, Expect]] = {}
        for position, spec in enumerate(frame.expectations):
            cls = getattr(gx.expectations, _class_name(spec.type), None)
            if cls is None:
                raise ValueError(f"unknown Great Expectations expectation {spec.type!r}")
            added = suite.add_expectation(cls(**dict(spec.kwargs)))
            if added.id in by_id:
                raise ValueError(f"{suite_name}: {spec.type} {dict(spec.kwargs)} given twice")
            by_id[added.id] = (position, spec)
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{suite_name}_validation", data=batch, suite=suite)
        )
        result = validation.run(
            batch_parameters={"dataframe": frame.data},
            result_format={"result_format": "COMPLETE"},
        )
        success = success and bool(result.success)
        for key in totals:
            totals[key] += int(result.statistics.get(key) or 0)
        found = [_failure(frame, evaluated, by_id, sample_rows) for evaluated in result.results]
        failed += [f for _, f in sorted((f for f in found if f), key=lambda pair: pair[0])]
    evaluated = totals["evaluated_expectations"]
    statistics = {
        **totals,
        "unsuccessful_expectations": evaluated - totals["successful_expectations"],
        "success_percent": (
            round(100.0 * totals["successful_expectations"] / evaluated, 2) if evaluated else None
        ),
    }
    return SuiteOutcome(
        suite=name,
        success=success,
        statistics=statistics,
        failed=failed,
        rows={frame.name: len(frame.data) for frame in frames},
    )


def _exception_message(info: Any) -> str | None:
    """GX reports errors flat (``raised_exception``...) or per metric; either way, the text."""
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    messages = [_exception_message(v) for v in info.values()]
    return "; ".join(m for m in messages if m) or None


def _failure(
    frame: Frame, evaluated: Any, by_id: dict[str, tuple[int, Expect]], sample_rows: int
) -> tuple[int, FailedExpectation] | None:
    """``(position in the frame's list, failure)`` of one GX result, ``None`` when it passed."""
    if evaluated.success:
        return None
    config = evaluated.expectation_config
    position, spec = by_id.get(config.id, (len(by_id), Expect(config.type, {})))
    details = dict(evaluated.result or {})
    error = _exception_message(evaluated.exception_info)
    if error:
        details["observed_value"] = f"error: {error}"
    index = details.get("unexpected_index_list") or []
    return position, FailedExpectation(
        frame=frame.name,
        expectation_type=config.type,
        column=spec.kwargs.get("column"),
        kwargs=plain(dict(spec.kwargs)),
        unexpected_count=plain(details.get("unexpected_count")),
        unexpected_rows=_sample(frame.data, index, sample_rows),
        description=spec.description,
        observed_value=plain(details.get("observed_value")),
    )
