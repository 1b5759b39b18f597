"""Code sets the synthetic claims draw from, sampled from the DIY tables of the benefit year.

The DIY tables are read once per generation and reduced to small sampled lists, so memory does
not depend on the tables' size.  Besides codes that matter for risk adjustment (HCC diagnoses,
RA-eligible CPT/HCPCS, RXC NDCs) claims need everyday codes that do not (a cold, a lab panel, a
statin): those are short curated lists, filtered against the tables so that "maps to no HCC /
RXC" and "not RA-eligible" stay true for whichever benefit year is used.
"""

from __future__ import annotations

import csv
import functools
import random
from dataclasses import dataclass, field
from pathlib import Path

from edge_pipeline.edge.reference import DIY_FOLDER, read_diy_rows, reference_dir
from edge_pipeline.edge.synth.ids import rng_for

#: Benefit year whose tables are used when the requested year has none.
FALLBACK_YEAR = 2025

#: Valid ICD-10-CM codes (no dot) common in claims that map to no HHS-HCC.
NON_HCC_ICD10 = (
    "Z0000",
    "Z0001",
    "Z00121",
    "Z00129",
    "Z23",
    "J069",
    "J029",
    "J209",
    "R079",
    "R051",
    "R109",
    "R519",
    "K219",
    "I10",
    "E785",
    "N390",
    "M5450",
    "H6690",
    "L309",
    "F419",
    "Z1231",
    "Z1211",
    "R5383",
    "M25561",
    "S93401A",
    "B349",
    "J302",
    "R112",
    "K5900",
    "Z3009",
)

#: CPT/HCPCS codes that are real and common but not on the RA-eligible list (labs, imaging,
#: vaccines administration, ECG), supplemented by the table's own non-included rows.
NON_ELIGIBLE_HCPCS = (
    "80053",
    "85025",
    "36415",
    "81002",
    "90471",
    "71046",
    "93000",
    "80061",
    "83036",
    "87880",
    "J3420",
    "G0008",
    "84443",
    "82947",
    "87086",
)

#: Plausible 11-digit NDCs of drugs that map to no RXC (statins, antibiotics, analgesics ...),
#: kept only if absent from table 10a.
NON_RXC_NDC = (
    "00071015523",
    "00093505698",
    "00378395077",
    "68180051301",
    "00172375810",
    "00093310905",
    "00781150701",
    "16714062201",
    "00143988701",
    "65862001099",
    "00904198160",
    "57237000505",
    "00093089401",
    "60505257809",
    "00591554401",
    "68382013510",
    "31722070190",
    "00228206710",
)

#: Injected "unknown code" values: well-formed but naming nothing (documented in the manifest).
INVALID_ICD10 = ("A0009", "Z9999", "U9999")
INVALID_NDC = ("00000123456", "00000987654")
INVALID_HCPCS = ("X9999", "X0001")

_SAMPLE_HCC = 600
_SAMPLE_ELIGIBLE = 400
_SAMPLE_RXC_NDC = 400


@dataclass(frozen=True)
class CodeSets:
    """Sampled code lists for one benefit year (plus where they came from)."""

    benefit_year: int
    source_year: int
    hcc_icd10: tuple[str, ...]
    non_hcc_icd10: tuple[str, ...]
    eligible_hcpcs: tuple[str, ...]
    eligible_em: tuple[str, ...]
    non_eligible_hcpcs: tuple[str, ...]
    rxc_ndc: tuple[str, ...]
    non_rxc_ndc: tuple[str, ...]
    surgical_hcpcs: tuple[str, ...] = field(default=())

    def manifest(self) -> dict[str, object]:
        """The parts of the code sets that later checks need as ground truth."""
        return {
            "source_benefit_year": self.source_year,
            "non_hcc_icd10": list(self.non_hcc_icd10),
            "non_eligible_hcpcs": list(self.non_eligible_hcpcs),
            "non_rxc_ndc": list(self.non_rxc_ndc),
            "invalid_icd10": list(INVALID_ICD10),
            "invalid_ndc": list(INVALID_NDC),
            "invalid_hcpcs": list(INVALID_HCPCS),
        }


def _source_year(benefit_year: int) -> int:
    path = reference_dir() / DIY_FOLDER / f"cy{benefit_year}"
    return benefit_year if path.is_dir() else FALLBACK_YEAR


def _sample(rng: random.Random, items: list[str], k: int) -> tuple[str, ...]:
    items = sorted(set(items))
    return tuple(items if len(items) <= k else sorted(rng.sample(items, k)))


#: Table 3's validity flags: the benefit year's fiscal year and the next one.
_FY_FLAGS = ("valid_fy", "valid_fy_duplicated_0")

#: Code lists written beside the plan registry (see ``write_code_lists``).
CODE_LIST_FILES = {
    "icd10cm": "code_list_icd10cm.csv",
    "ndc": "code_list_ndc.csv",
    "hcpcs": "code_list_hcpcs.csv",
}


def _flagged_invalid(year: int) -> set[str]:
    """Codes table 3 of ``year`` flags invalid in one of its fiscal years (empty if absent)."""
    if not (reference_dir() / DIY_FOLDER / f"cy{year}").is_dir():
        return set()
    return {
        row["icd10"]
        for row in read_diy_rows(year, "table_3.csv")
        if any(row.get(flag) == "N" for flag in _FY_FLAGS)
    }


def write_code_lists(out_dir: Path, codes: CodeSets) -> list[str]:
    """Write the everyday codes the claims use as ``code_list_<kind>.csv`` (column ``code``).

    Real issuers validate against full code sets (the FDA NDC directory, the CPT/HCPCS list);
    the DIY tables list only codes that matter for risk adjustment, so Phase 1 verification
    loads these small lists as extra reference codes.  Returns the file names written.
    """
    lists = {
        "icd10cm": sorted({*codes.non_hcc_icd10, *codes.hcc_icd10}),
        "ndc": sorted(codes.non_rxc_ndc),
        "hcpcs": sorted(codes.non_eligible_hcpcs),
    }
    for kind, values in lists.items():
        with (out_dir / CODE_LIST_FILES[kind]).open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(("code",))
            writer.writerows((value,) for value in values)
    return [CODE_LIST_FILES[kind] for kind in lists]


def _included_column(columns: list[str], year: int) -> str:
    """Table 2's "included in CY" column of ``year`` (its title varies between releases)."""
    prefix = f"in_cy{year}"
    for column in columns:
        if column.startswith(prefix):
            return column
    return columns[-1]


@functools.lru_cache(maxsize=8)
def load_code_sets(benefit_year: int, seed: int) -> CodeSets:
    """Read tables 2, 3 and 10a of the benefit year (or the fallback year) and sample them."""
    year = _source_year(benefit_year)
    rng = rng_for(seed, "codes")

    icd_rows = read_diy_rows(year, "table_3.csv")
    mapped = {row["icd10"] for row in icd_rows}
    invalid_before = _flagged_invalid(year - 1)
    # Codes without MCE age/sex conditions: valid for anyone, so a clean claim stays clean.
    # Valid in every fiscal year a claim date can fall in (claims of a renewal's previous-year
    # period reach back into the prior table's years), so Phase 1 never rejects them.
    hcc = [
        row["icd10"]
        for row in icd_rows
        if all(row.get(flag) == "Y" for flag in _FY_FLAGS)
        and row["icd10"] not in invalid_before
        and not row.get("mce_age_condition")
        and not row.get("mce_sex_condition")
        and row.get("cc")
    ]

    hcpcs_rows = read_diy_rows(year, "table_2.csv")
    code_column = next(iter(hcpcs_rows[0])) if hcpcs_rows else "hcpcs/cpt_code"
    included = _included_column(list(hcpcs_rows[0]) if hcpcs_rows else [], year)
    eligible = [r[code_column] for r in hcpcs_rows if (r.get(included) or "").lower() == "yes"]
    excluded = [r[code_column] for r in hcpcs_rows if (r.get(included) or "").lower() != "yes"]
    listed = {r[code_column] for r in hcpcs_rows}
    em = [c for c in eligible if c.startswith("992") or c.startswith("993")]
    surgical = [c for c in eligible if c[:1].isdigit() and "10000" <= c <= "69999"]

    ndc_rows = read_diy_rows(year, "table_10a.csv")
    rxc_ndc = [r["ndc"] for r in ndc_rows]
    rxc_set = set(rxc_ndc)

    return CodeSets(
        benefit_year=benefit_year,
        source_year=year,
        hcc_icd10=_sample(rng, hcc, _SAMPLE_HCC),
        non_hcc_icd10=tuple(c for c in NON_HCC_ICD10 if c not in mapped),
        eligible_hcpcs=_sample(rng, eligible, _SAMPLE_ELIGIBLE),
        eligible_em=_sample(rng, em, 40) or _sample(rng, eligible, 40),
        non_eligible_hcpcs=tuple(
            sorted({c for c in NON_ELIGIBLE_HCPCS if c not in listed} | set(excluded))
        ),
        rxc_ndc=_sample(rng, rxc_ndc, _SAMPLE_RXC_NDC),
        non_rxc_ndc=tuple(c for c in NON_RXC_NDC if c not in rxc_set),
        surgical_hcpcs=_sample(rng, surgical, 80) or _sample(rng, eligible, 80),
    )
