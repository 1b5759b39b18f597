"""Plain-Python scorer, one enrollee at a time: the benchmark baseline and a cross-check.

It is what a first implementation would look like: loop over the enrollee's diagnoses, apply
the table 4 hierarchy *row by row in table order* (the literal CMS reading, where the engine
uses the set-based equivalent), then interpret the model program statement by statement.  It
shares only the parsed tables (``DiyModel``) with the engine, so agreement between the two on
random populations checks the SQL, the stage compiler and the set-based hierarchy.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from edge_pipeline.edge.risk.diy_tables import DiyModel, IcdMapping, load_diy_model
from edge_pipeline.edge.risk.enrollees import Enrollee
from edge_pipeline.edge.risk.metals import METALS
from edge_pipeline.edge.risk.program import ModelProgram
from edge_pipeline.edge.risk.sas import CountSum, count_operands, evaluate

THOUSANDTH = Decimal("0.001")


@dataclass
class BaselineScore:
    """What the engine's five tables hold for one enrollee."""

    person_id: str
    model: str | None
    csr_factor: Decimal | None
    score_raw: Decimal | None
    score_csr_adjusted: Decimal | None
    terms: dict[str, Decimal] = field(default_factory=dict)
    hcc_sources: set[tuple[str, str]] = field(default_factory=set)
    rxc_sources: set[tuple[str, str, str]] = field(default_factory=set)
    dropped: dict[str, str] = field(default_factory=dict)


def whole_years(born: dt.date, on: dt.date) -> int:
    """Age in whole years on a date (a birthday counts from its day; Feb 29 → Mar 1)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class BaselineScorer:
    """Scores enrollees one by one with the tables of ``benefit_year``."""

    def __init__(self, benefit_year: int) -> None:
        self.model: DiyModel = load_diy_model(benefit_year)
        self.icd: dict[str, list[IcdMapping]] = defaultdict(list)
        for row in self.model.icd:
            self.icd[row.icd10].append(row)
        self.rxc: dict[tuple[str, str], list[str]] = defaultdict(list)
        for code_type, code, rxc in self.model.rxc_codes:
            self.rxc[(code_type, code)].append(rxc)

    def score(self, enrollee: Enrollee) -> BaselineScore:
        model_name = self.model.model_of(enrollee.age_last)
        metal = (enrollee.metal or "").strip().upper()
        result = BaselineScore(enrollee.person_id, None, None, None, None)
        if model_name is None or metal not in METALS:
            return result
        result.model = model_name
        program = self.model.programs[model_name]
        hccs = self._hccs(enrollee)
        flags = self._hierarchy(hccs, self.model.hcc_order, self.model.hierarchy, program, result)
        result.hcc_sources = {
            (h, code) for h, codes in hccs.items() if h in flags for code in codes
        }
        rxcs = self._rxcs(enrollee, program)
        kept_rxcs = self._hierarchy(
            rxcs, self.model.rxc_order, self.model.rxc_hierarchy, program, result
        )
        result.rxc_sources = {
            (r, kind, code) for r, codes in rxcs.items() if r in kept_rxcs for kind, code in codes
        }
        env = self._run(program, flags | kept_rxcs, enrollee)
        coefficients = self.model.coefficients[model_name]
        result.terms = {v: c[metal] for v, c in coefficients.items() if env.get(v) == 1}
        result.score_raw = sum(result.terms.values(), Decimal("0.000"))
        result.csr_factor = self.model.csr[model_name].factor(enrollee.csr_indicator, metal)
        if result.csr_factor is not None:
            adjusted = result.score_raw * result.csr_factor
            result.score_csr_adjusted = adjusted.quantize(THOUSANDTH, ROUND_HALF_UP)
        return result

    def _hccs(self, e: Enrollee) -> dict[str, set[str]]:
        """HCC → diagnosis codes producing it, after FY validity, MCE edits and CC splits."""
        year = self.model.benefit_year
        found: dict[str, set[str]] = defaultdict(set)
        for raw_code, service_date in e.diagnoses:
            code = raw_code.strip().upper().replace(".", "")
            if service_date is None:
                continue
            fy = service_date.year + (1 if service_date.month >= 10 else 0)
            age_dx = whole_years(e.birth_date, service_date) if e.birth_date else None
            for row in self.icd.get(code, []):
                valid = (fy == year and row.valid_fy) or (fy == year + 1 and row.valid_fy_next)
                if (
                    valid
                    and row.mce.matches(age_dx, e.sex)
                    and row.split.matches(e.age_last, e.sex)
                ):
                    found[row.hcc].add(code)
        return found

    def _rxcs(self, e: Enrollee, program: ModelProgram) -> dict[str, set[tuple[str, str]]]:
        found: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for kind, codes in (("NDC", e.ndcs), ("HCPCS", e.hcpcs)):
            for raw in codes:
                code = raw.strip().upper()
                for rxc in self.rxc.get((kind, code), []):
                    if rxc in program.flags:
                        found[rxc].add((kind, code))
        return found

    @staticmethod
    def _hierarchy(
        present: Iterable[str],
        order: tuple[str, ...],
        table: dict[str, tuple[str, ...]],
        program: ModelProgram,
        result: BaselineScore,
    ) -> set[str]:
        """Rows in table order on current values; returns the model's surviving variables."""
        current = {var: 1 for var in present}
        for var in order:
            if current.get(var) == 1:
                for zeroed in table[var]:
                    if current.get(zeroed) == 1:
                        current[zeroed] = 0
                        if zeroed in program.flags:
                            result.dropped[zeroed] = var
        return {v for v, on in current.items() if on == 1 and v in program.flags}

    @staticmethod
    def _run(program: ModelProgram, flags: set[str], e: Enrollee) -> dict[str, int | None]:
        env: dict[str, int | None] = dict.fromkeys(program.columns, 0)
        env.update(dict.fromkeys(flags, 1))
        env.update(AGE_LAST=e.age_last, SEX=e.sex, ENROLDURATION=e.enrol_duration)
        for statement in program.statements:
            if isinstance(statement, CountSum):
                added, minus = count_operands(statement, program.columns)
                env[statement.var] = sum(env[v] or 0 for v in added) - sum(
                    env[v] or 0 for v in minus
                )
            elif evaluate(statement.cond, env):
                for assign in statement.body:
                    env[assign.var] = assign.value
        return env
