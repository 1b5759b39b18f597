"""The synthetic issuer generator: determinism, realism of the data, and the defect answer key.

Each generated file is read back with lxml and checked against the layouts, the DIY tables and
the manifest, so the tests exercise real behaviour rather than the generator's own bookkeeping.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import itertools
import logging
import re
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from edge_pipeline.edge import reference
from edge_pipeline.edge.code_sets import (
    DISCHARGE_STATUS_CODES,
    MAINTENANCE_TYPE_CODES,
    PLACE_OF_SERVICE_CODES,
    REVENUE_CODES,
)
from edge_pipeline.edge.layouts import BY_NAME, EDGE_NAMESPACE, ESES, ESMCS, FileLayout
from edge_pipeline.edge.synth import Manifest, generate_issuer, write_bench_esmcs
from edge_pipeline.edge.synth.defects import DEFECT_CLASSES, MISSING_REQUIRED, RECORD_SEQUENCE
from edge_pipeline.edge.synth.ids import npi_is_valid
from edge_pipeline.edge.synth.plans import AREA_FACTORS
from edge_pipeline.edge.writers import total_rules

NS = f"{{{EDGE_NAMESPACE}}}"
YEAR = 2025
ENROLLEES = 300
SEED = 11
HAS_XSD = importlib.util.find_spec("edge_pipeline.edge.xsd") is not None
NAME = re.compile(r"^(\d{5})\.([EMPS])\.D(\d{8})T(\d{6})\.([TPV])\.xml$")
EFFECTS = {
    "file_rejected",
    "issuer_rejected",
    "plan_rejected",
    "enrollee_rejected",
    "claim_rejected",
    "record_rejected",
}


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Manifest]]:
    """Four generations shared by the module: clean, clean again, other seed, with defects."""
    out: dict[str, tuple[Path, Manifest]] = {}
    for key, seed, rate in (
        ("clean", SEED, 0.0),
        ("again", SEED, 0.0),
        ("other", SEED + 1, 0.0),
        ("defects", SEED, 0.05),
    ):
        path = tmp_path_factory.mktemp(key)
        out[key] = (path, generate_issuer(path, ENROLLEES, seed, YEAR, rate))
    return out


@pytest.fixture(scope="module")
def clean(runs: dict[str, tuple[Path, Manifest]]) -> tuple[Path, Manifest]:
    return runs["clean"]


@pytest.fixture(scope="module")
def defective(runs: dict[str, tuple[Path, Manifest]]) -> tuple[Path, Manifest]:
    return runs["defects"]


@pytest.fixture(scope="module")
def docs(clean: tuple[Path, Manifest]) -> dict[str, etree._Element]:
    """Root element of each clean file, by layout name."""
    out_dir, manifest = clean
    return {f.layout: etree.parse(str(out_dir / f.path)).getroot() for f in manifest.files}


@pytest.fixture(scope="module")
def coverage(docs: dict[str, etree._Element]) -> dict[str, list[tuple[str, str, str]]]:
    """Enrollee id -> [(start, end, plan id)] from the clean ESES."""
    found: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for member in docs["ESES"].iter(f"{NS}includedInsuredMember"):
        member_id = member.findtext(f"{NS}insuredMemberIdentifier")
        for period in member.iter(f"{NS}includedInsuredMemberProfile"):
            found[member_id].append(
                (
                    period.findtext(f"{NS}coverageStartDate"),
                    period.findtext(f"{NS}coverageEndDate"),
                    period.findtext(f"{NS}insurancePlanIdentifier"),
                )
            )
    return found


def diy_codes(table: str, column: str) -> set[str]:
    with (reference.diy_dir(YEAR) / table).open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        key = column if column in (reader.fieldnames or []) else (reader.fieldnames or [""])[0]
        return {row[key] for row in reader}


def texts(root: etree._Element, name: str) -> list[str]:
    return [e.text or "" for e in root.iter(f"{NS}{name}")]


def record_ids(root: etree._Element) -> list[int]:
    return [int(e.text) for e in root.iter(f"{NS}recordIdentifier")]


def age(birth: str, on: str) -> int:
    b, d = dt.date.fromisoformat(birth), dt.date.fromisoformat(on)
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def covered(periods: list[tuple[str, str, str]], day: str) -> bool:
    return any(start <= day <= end for start, end, _ in periods)


# -- determinism and files ----------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(runs: dict[str, tuple[Path, Manifest]]) -> None:
    (a, _), (b, _) = runs["clean"], runs["again"]
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_other_seed_gives_other_data(runs: dict[str, tuple[Path, Manifest]]) -> None:
    (a, ma), (b, mb) = runs["clean"], runs["other"]
    assert ma.issuer_id != mb.issuer_id
    for fa, fb in zip(ma.files, mb.files, strict=True):
        assert (a / fa.path).read_bytes() != (b / fb.path).read_bytes()


def test_four_files_named_and_headed_as_the_spec_says(
    clean: tuple[Path, Manifest], docs: dict[str, etree._Element]
) -> None:
    out_dir, manifest = clean
    assert [f.submission_type for f in manifest.files] == ["E", "M", "P", "S"]
    assert manifest.defects == []
    stamps = set()
    for entry in manifest.files:
        match = NAME.match(entry.path)
        assert match, entry.path
        assert match.group(1) == manifest.issuer_id
        assert match.group(2) == entry.submission_type and match.group(5) == "T"
        stamps.add(match.group(3) + match.group(4))
        root = docs[entry.layout]
        assert root.tag == f"{NS}{BY_NAME[entry.layout].root}"
        assert len(root.findtext(f"{NS}fileIdentifier")) == 12
        assert root.findtext(f"{NS}fileIdentifier") == entry.file_identifier
        assert root.findtext(f"{NS}submissionTypeCode") == entry.submission_type
        assert re.fullmatch(
            r"\d\d\.\d\d\.\d\d", root.findtext(f"{NS}interfaceControlReleaseNumber")
        )
        generated = root.findtext(f"{NS}generationDateTime")
        assert dt.datetime.fromisoformat(generated) < dt.datetime(YEAR + 1, 5, 1)
        assert entry.bytes == (out_dir / entry.path).stat().st_size
        assert entry.records == len(record_ids(root))
    assert len(stamps) == 4
    assert len({f.file_identifier for f in manifest.files}) == 4
    assert (out_dir / "manifest.json").is_file()
    assert Manifest.read(out_dir).to_json() == manifest.to_json()


def test_plan_registry_covers_metals_variants_and_rating_areas(
    clean: tuple[Path, Manifest],
) -> None:
    out_dir, manifest = clean
    with (out_dir / manifest.plan_registry).open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 6
    assert {r["metal"] for r in rows} == {"platinum", "gold", "silver", "bronze", "catastrophic"}
    silver = {r["csr_variant"] for r in rows if r["metal"] == "silver"}
    assert {"04", "05", "06", "02", "03"} <= silver
    areas = {a for r in rows for a in r["rating_areas"].split(";")}
    assert len(areas) >= 3
    for row in rows:
        plan_id = row["insurance_plan_identifier"]
        assert len(plan_id) == 16 and plan_id.startswith(manifest.issuer_id)
        assert plan_id[-2:] == row["csr_variant"]
        assert int(row["effective_start_year"]) <= YEAR <= int(row["effective_end_year"])


# -- enrollment ---------------------------------------------------------------------------------


def test_enrollment_has_families_gaps_renewals_and_an_age_mix(
    clean: tuple[Path, Manifest], docs: dict[str, etree._Element]
) -> None:
    out_dir, manifest = clean
    with (out_dir / manifest.plan_registry).open(newline="") as f:
        registry = {r["insurance_plan_identifier"]: r for r in csv.DictReader(f)}
    members = list(docs["ESES"].iter(f"{NS}includedInsuredMember"))
    assert len(members) == ENROLLEES
    ids = [m.findtext(f"{NS}insuredMemberIdentifier") for m in members]
    assert len(set(ids)) == len(ids)
    children_under_21: Counter[str] = Counter()
    bands: Counter[str] = Counter()
    renewals = gaps = mid_year = 0
    for member in members:
        birth = member.findtext(f"{NS}insuredMemberBirthDate")
        periods = member.findall(f"{NS}includedInsuredMemberProfile")
        starts = [p.findtext(f"{NS}coverageStartDate") for p in periods]
        ends = [p.findtext(f"{NS}coverageEndDate") for p in periods]
        last_age = age(birth, ends[-1])
        bands["infant" if last_age < 2 else "child" if last_age < 21 else "adult"] += 1
        if member.findtext(f"{NS}insuredMemberGenderCode") == "U":
            assert (dt.date.fromisoformat(starts[0]) - dt.date.fromisoformat(birth)).days <= 90
        for period, start, end in zip(periods, starts, ends, strict=True):
            assert birth <= start <= end
            indicator = period.findtext(f"{NS}subscriberIndicator") or ""
            subscriber = period.findtext(f"{NS}subscriberIdentifier") or ""
            assert bool(indicator) != bool(subscriber), "exactly one of the pair is populated"
            if subscriber:
                assert subscriber in ids
            plan = registry[period.findtext(f"{NS}insurancePlanIdentifier")]
            assert period.findtext(f"{NS}rateAreaIdentifier") in plan["rating_areas"].split(";")
            if period.findtext(f"{NS}enrollmentMaintenanceTypeCode") == "021041":
                renewals += 1
        subscriber = periods[0].findtext(f"{NS}subscriberIdentifier")
        if subscriber and last_age < 21:
            children_under_21[subscriber] += 1
        gaps += any(
            (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days > 1
            for a, b in zip(ends, starts[1:], strict=False)
        )
        mid_year += any(s > f"{YEAR}-01-01" for s in starts)
    # Dependents under 21 of the same subscriber: spouses are adults, so these are children.
    assert max(children_under_21.values()) > 3
    assert sum(1 for n in children_under_21.values() if n > 3) >= 2
    assert bands["infant"] and bands["child"] and bands["adult"]
    assert renewals and gaps and mid_year


def test_premium_is_on_the_subscribers_periods_only(docs: dict[str, etree._Element]) -> None:
    """Spec section 3: the policy premium on the subscriber's period, 0 for dependents."""
    for period in docs["ESES"].iter(f"{NS}includedInsuredMemberProfile"):
        premium = Decimal(period.findtext(f"{NS}insurancePlanPremiumAmount"))
        if period.findtext(f"{NS}subscriberIndicator") == "S":
            assert premium > 0
        else:
            assert premium == 0


def test_family_premium_charges_at_most_the_three_oldest_children(
    clean: tuple[Path, Manifest], docs: dict[str, etree._Element]
) -> None:
    """45 CFR 147.102(c)(1): a subscriber period's premium is base x area x the age factors
    (ages on the period start) of the subscriber, the dependents of 21 and over and only the
    three oldest dependents under 21 -- so a fourth child shows up in premiums per member."""
    out_dir, manifest = clean
    with (out_dir / manifest.plan_registry).open(newline="") as f:
        base = {
            r["insurance_plan_identifier"]: float(r["monthly_base_premium"])
            for r in csv.DictReader(f)
        }
    curve = reference.read_age_curve()

    def factor(years: int) -> float:
        return curve[min(max(years, 0), max(curve))]

    policies: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    births: dict[str, str] = {}
    for member in docs["ESES"].iter(f"{NS}includedInsuredMember"):
        member_id = member.findtext(f"{NS}insuredMemberIdentifier")
        births[member_id] = member.findtext(f"{NS}insuredMemberBirthDate")
        for period in member.iter(f"{NS}includedInsuredMemberProfile"):
            policies[period.findtext(f"{NS}subscriberIdentifier") or member_id].append(
                (
                    member_id,
                    period.findtext(f"{NS}coverageStartDate"),
                    period.findtext(f"{NS}coverageEndDate"),
                    period.findtext(f"{NS}insurancePlanIdentifier"),
                    period.findtext(f"{NS}insurancePlanPremiumAmount"),
                    period.findtext(f"{NS}rateAreaIdentifier"),
                )
            )
    capped = 0
    for subscriber, periods in policies.items():
        for member_id, start, end, plan, premium, area in periods:
            if member_id != subscriber:
                continue
            ages = {
                other: age(births[other], start)
                for other, s, e, *_ in periods
                if s <= end and e >= start
            }
            children = sorted(
                (births[m], m) for m, years in ages.items() if m != subscriber and years < 21
            )
            charged = [m for m in ages if m == subscriber or ages[m] >= 21]
            charged += [m for _, m in children[:3]]
            expected = base[plan] * AREA_FACTORS[area] * sum(factor(ages[m]) for m in charged)
            assert abs(Decimal(premium) - Decimal(str(round(expected, 2)))) <= Decimal("0.01")
            capped += len(children) > 3
    assert capped >= 2  # families with a fourth child under 21 exist, and were not charged for it


def test_clean_codes_are_in_the_verification_code_sets(docs: dict[str, etree._Element]) -> None:
    for name, code_set, root in (
        ("enrollmentMaintenanceTypeCode", MAINTENANCE_TYPE_CODES, docs["ESES"]),
        ("dischargeStatusCode", DISCHARGE_STATUS_CODES, docs["ESMCS"]),
        ("revenueCode", REVENUE_CODES, docs["ESMCS"]),
        ("serviceFacilityTypeCode", PLACE_OF_SERVICE_CODES, docs["ESMCS"]),
    ):
        written = set(texts(root, name))
        assert written and written <= code_set.codes, (name, written - code_set.codes)


# -- structure of clean files -------------------------------------------------------------------


def test_record_identifiers_are_consecutive_in_clean_files(
    docs: dict[str, etree._Element],
) -> None:
    for layout_name, root in docs.items():
        ids = record_ids(root)
        assert ids == list(range(1, len(ids) + 1)), layout_name


def computed_totals(scope: etree._Element, layout: FileLayout) -> dict[str, str]:
    """Totals of the records below ``scope``, computed from the document alone."""
    rules = total_rules(layout.name)
    records = {f"{NS}{r.element}": r for r, _ in layout.records()}
    counts: Counter[str] = Counter()
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for element in scope.iter():
        record = records.get(element.tag)
        if record is None or element is scope:
            continue
        counts[record.level] += 1
        for column, rule in rules.items():
            if rule.kind == "sum" and rule.level == record.level:
                name = next(f.name for f in record.fields if f.column == rule.column)
                sums[column] += Decimal(element.findtext(f"{NS}{name}"))
    return {
        column: str(counts[rule.level])
        if rule.kind == "count"
        else str(sums[column].quantize(Decimal("0.01")))
        for column, rule in rules.items()
    }


def stated_totals(element: etree._Element, fields: tuple, rules: dict) -> dict[str, str]:
    return {f.column: element.findtext(f"{NS}{f.name}") for f in fields if f.column in rules}


def assert_totals_match(root: etree._Element, layout: FileLayout) -> None:
    rules = total_rules(layout.name)
    assert stated_totals(root, layout.totals, rules) == computed_totals(root, layout)
    issuer = root.find(f"{NS}{layout.issuer.element}")
    assert stated_totals(issuer, layout.issuer.fields, rules) == computed_totals(issuer, layout)
    for child in layout.issuer.children:
        if not any(f.column in rules for f in child.fields):
            continue
        for plan in issuer.findall(f"{NS}{child.element}"):
            assert stated_totals(plan, child.fields, rules) == computed_totals(plan, layout)


def test_control_totals_match_in_clean_files(docs: dict[str, etree._Element]) -> None:
    for layout_name, root in docs.items():
        assert_totals_match(root, BY_NAME[layout_name])


@pytest.mark.skipif(not HAS_XSD, reason="edge_pipeline.edge.xsd not available")
def test_every_file_validates_against_its_layout_xsd(
    clean: tuple[Path, Manifest], defective: tuple[Path, Manifest]
) -> None:
    from edge_pipeline.edge.xsd import load_schema

    for out_dir, manifest in (clean, defective):
        for entry in manifest.files:
            schema = load_schema(BY_NAME[entry.layout])
            document = etree.parse(str(out_dir / entry.path))
            assert schema.validate(document), (entry.path, schema.error_log)


# -- claims -------------------------------------------------------------------------------------


def test_clean_service_dates_are_inside_coverage_and_in_the_claims_plan(
    docs: dict[str, etree._Element], coverage: dict[str, list[tuple[str, str, str]]]
) -> None:
    medical = docs["ESMCS"]
    for plan in medical.iter(f"{NS}includedMedicalClaimPlan"):
        plan_id = plan.findtext(f"{NS}insurancePlanIdentifier")
        for claim in plan.iter(f"{NS}includedMedicalClaimDetail"):
            periods = coverage[claim.findtext(f"{NS}insuredMemberIdentifier")]
            start = claim.findtext(f"{NS}statementCoverFromDate")
            end = claim.findtext(f"{NS}statementCoverToDate")
            assert start <= end
            assert any(s <= start <= end <= e and p == plan_id for s, e, p in periods)
            for line in claim.iter(f"{NS}includedServiceLine"):
                assert covered(periods, line.findtext(f"{NS}serviceFromDate"))
                assert covered(periods, line.findtext(f"{NS}serviceToDate"))
    for claim in docs["ESPCS"].iter(f"{NS}includedPharmacyClaimDetail"):
        periods = coverage[claim.findtext(f"{NS}insuredMemberIdentifier")]
        assert covered(periods, claim.findtext(f"{NS}prescriptionFillDate"))
    for plan in docs["ESSFS"].iter(f"{NS}includedSupplementalDiagnosisPlan"):
        plan_id = plan.findtext(f"{NS}insurancePlanIdentifier")
        for record in plan.iter(f"{NS}includedSupplementalDiagnosisDetail"):
            periods = coverage[record.findtext(f"{NS}insuredMemberIdentifier")]
            in_plan = [p for p in periods if p[2] == plan_id]
            assert covered(in_plan, record.findtext(f"{NS}serviceFromDate"))
            assert covered(in_plan, record.findtext(f"{NS}serviceToDate"))


def test_claims_draw_on_the_diy_code_sets_and_beyond(docs: dict[str, etree._Element]) -> None:
    medical, pharmacy = docs["ESMCS"], docs["ESPCS"]
    hcc_codes = diy_codes("table_3.csv", "icd10")
    diagnoses = set(texts(medical, "diagnosisCode"))
    assert diagnoses & hcc_codes and diagnoses - hcc_codes
    eligible = diy_codes("table_2.csv", "hcpcs/cpt_code")
    services = set(texts(medical, "serviceCode"))
    assert services & eligible and services - eligible
    rxc = diy_codes("table_10a.csv", "ndc")
    ndcs = set(texts(pharmacy, "nationalDrugCode"))
    assert ndcs & rxc and ndcs - rxc
    assert all(len(n) == 11 and n.isdigit() for n in ndcs)


def test_claim_types_bill_types_places_of_service_and_npis(
    docs: dict[str, etree._Element],
) -> None:
    medical = docs["ESMCS"]
    claims = list(medical.iter(f"{NS}includedMedicalClaimDetail"))
    forms = Counter(c.findtext(f"{NS}formTypeCode") for c in claims)
    assert forms["I"] and forms["P"]
    bill_types = {
        c.findtext(f"{NS}billTypeCode") for c in claims if c.findtext(f"{NS}formTypeCode") == "I"
    }
    acceptable = {
        "111",
        "117",
        "131",
        "137",
        "711",
        "717",
        "761",
        "767",
        "771",
        "777",
        "851",
        "857",
    }
    assert bill_types & acceptable and bill_types - acceptable
    for claim in claims:
        bill_type = claim.findtext(f"{NS}billTypeCode")
        if bill_type and bill_type.startswith("11"):
            assert re.fullmatch(r"\d\d", claim.findtext(f"{NS}dischargeStatusCode"))
        if claim.findtext(f"{NS}formTypeCode") == "P":
            assert bill_type is None
            for line in claim.iter(f"{NS}includedServiceLine"):
                assert re.fullmatch(r"\d\d", line.findtext(f"{NS}serviceFacilityTypeCode"))
        assert npi_is_valid(claim.findtext(f"{NS}billingProviderIdentifier"))
    for npi in texts(medical, "renderingProviderIdentifier"):
        assert npi_is_valid(npi)
    for npi in texts(docs["ESPCS"], "dispensingProviderIdentifier"):
        assert npi_is_valid(npi)


def chains(root: etree._Element, tag: str) -> list[tuple[etree._Element, etree._Element]]:
    """(claim, the claim it names) for every replacement or void; asserts the target exists
    earlier in the file."""
    seen: dict[str, etree._Element] = {}
    pairs = []
    for claim in root.iter(f"{NS}{tag}"):
        original = claim.findtext(f"{NS}originalClaimIdentifier")
        if original:
            assert original in seen, "a void or replacement names an earlier claim of the file"
            pairs.append((claim, seen[original]))
        claim_id = claim.findtext(f"{NS}claimIdentifier")
        assert claim_id not in seen
        seen[claim_id] = claim
    return pairs


def test_void_and_replace_chains_reference_existing_claims(
    docs: dict[str, etree._Element],
) -> None:
    for tag, root in (
        ("includedMedicalClaimDetail", docs["ESMCS"]),
        ("includedPharmacyClaimDetail", docs["ESPCS"]),
    ):
        pairs = chains(root, tag)
        codes = Counter(claim.findtext(f"{NS}voidReplaceCode") for claim, _ in pairs)
        assert set(codes) <= {"R", "V"}
        for claim, original in pairs:
            member = f"{NS}insuredMemberIdentifier"
            processed = f"{NS}claimProcessedDateTime"
            assert claim.findtext(member) == original.findtext(member)
            assert claim.findtext(processed) > original.findtext(processed)
        if tag == "includedMedicalClaimDetail":
            assert codes["R"] and codes["V"]
            for claim, _ in pairs:
                bill_type = claim.findtext(f"{NS}billTypeCode")
                if bill_type:
                    expected = "7" if claim.findtext(f"{NS}voidReplaceCode") == "R" else "8"
                    assert bill_type[2] == expected
    for claim in docs["ESMCS"].iter(f"{NS}includedMedicalClaimDetail"):
        if not claim.findtext(f"{NS}originalClaimIdentifier"):
            assert (claim.findtext(f"{NS}billTypeCode") or "1")[-1] not in "78"


def test_pharmacy_refills_follow_a_first_fill(docs: dict[str, etree._Element]) -> None:
    first_fills = set()
    refills = 0
    for claim in docs["ESPCS"].iter(f"{NS}includedPharmacyClaimDetail"):
        reference_number = claim.findtext(f"{NS}prescriptionServiceReferenceNumber")
        fill = int(claim.findtext(f"{NS}prescriptionFillNumber"))
        if fill == 0:
            first_fills.add(reference_number)
        else:
            refills += 1
            assert reference_number in first_fills
    assert refills


def test_supplemental_adds_deletes_voids_and_unlinked(docs: dict[str, etree._Element]) -> None:
    claims = {
        c.findtext(f"{NS}claimIdentifier"): c.findtext(f"{NS}insuredMemberIdentifier")
        for c in docs["ESMCS"].iter(f"{NS}includedMedicalClaimDetail")
    }
    seen: dict[str, str] = {}
    codes: Counter[str] = Counter()
    unlinked = 0
    for record in docs["ESSFS"].iter(f"{NS}includedSupplementalDiagnosisDetail"):
        code = record.findtext(f"{NS}addDeleteVoidCode")
        codes[code] += 1
        claim_id = record.findtext(f"{NS}originalClaimIdentifier")
        member = record.findtext(f"{NS}insuredMemberIdentifier")
        if claim_id in claims:
            assert claims[claim_id] == member
        else:
            unlinked += 1
        if code == "V":
            assert seen[record.findtext(f"{NS}originalSupplementalDetailID")] == "A"
        seen[record.findtext(f"{NS}supplementalDiagnosisDetailRecordIdentifier")] = code
    assert codes["A"] and codes["D"] and codes["V"]
    assert unlinked


# -- defects ------------------------------------------------------------------------------------


def test_every_defect_class_is_injected(defective: tuple[Path, Manifest]) -> None:
    _, manifest = defective
    assert {d.defect_class for d in manifest.defects} == set(DEFECT_CLASSES)
    assert {d.expected_effect for d in manifest.defects} <= EFFECTS
    for entry in manifest.files:
        if entry.role == "defect":
            assert entry.expected_effect in {"file_rejected", "issuer_rejected"}
            assert [d for d in manifest.defects if d.file == entry.path]


def test_each_defect_points_at_its_record_and_element(defective: tuple[Path, Manifest]) -> None:
    out_dir, manifest = defective
    roots = {f.path: etree.parse(str(out_dir / f.path)).getroot() for f in manifest.files}
    levels = {
        f.path: {f"{NS}{r.element}": r.level for r, _ in BY_NAME[f.layout].records()}
        for f in manifest.files
    }
    file_ids = {f.path: f.file_identifier for f in manifest.files}
    for defect in manifest.defects:
        root = roots[defect.file]
        assert defect.file_identifier == file_ids[defect.file]
        assert root.findtext(f"{NS}fileIdentifier") == defect.file_identifier
        if defect.record_identifier is None:  # file level: a header or file-total element
            assert root.findtext(f"{NS}{defect.element}") == defect.value
            continue
        matches = [
            e.getparent()
            for e in root.iter(f"{NS}recordIdentifier")
            if int(e.text) == defect.record_identifier
        ]
        assert len(matches) == 1, defect
        record = matches[0]
        assert levels[defect.file][record.tag] == defect.level, defect
        found = [c.text or "" for c in record if c.tag == f"{NS}{defect.element}"]
        if defect.defect_class == MISSING_REQUIRED or (
            defect.value is None and defect.defect_class == "line_failure"
        ):
            assert found == [], defect
        else:
            assert defect.value in found, defect


def test_sequence_breaks_are_exactly_the_listed_ones(defective: tuple[Path, Manifest]) -> None:
    out_dir, manifest = defective
    for entry in manifest.files:
        listed = {
            d.record_identifier
            for d in manifest.defects
            if d.file == entry.path and d.defect_class == RECORD_SEQUENCE
        }
        ids = record_ids(etree.parse(str(out_dir / entry.path)).getroot())
        breaks = {b for a, b in itertools.pairwise(ids) if b != a + 1}
        assert ids[0] == 1
        assert breaks == listed, entry.path


def test_defective_files_keep_clean_records_and_duplicate_is_a_copy(
    defective: tuple[Path, Manifest],
) -> None:
    out_dir, manifest = defective
    eses = next(f for f in manifest.files if f.layout == "ESES" and f.role == "submission")
    root = etree.parse(str(out_dir / eses.path)).getroot()
    members = Counter(texts(root, "insuredMemberIdentifier"))
    duplicates = [d for d in manifest.defects if d.defect_class == "duplicate_enrollee"]
    assert {m for m, n in members.items() if n > 1} == {d.value for d in duplicates}
    assert sum(members.values()) == ENROLLEES + len(duplicates)


def test_defect_rate_scales_the_number_of_defects(tmp_path: Path) -> None:
    manifest = generate_issuer(tmp_path, 200, seed=1, error_rate=0.3)
    claims = sum(1 for d in manifest.defects if d.file.split(".")[1] == "M")
    medical = next(f for f in manifest.files if f.layout == "ESMCS")
    assert claims > 0.15 * medical.counts["claim"]


# -- other entry points -------------------------------------------------------------------------


def test_small_run_is_quick_and_logs_no_member_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="edge_pipeline")
    started = time.perf_counter()
    manifest = generate_issuer(tmp_path, enrollees=200, seed=1, error_rate=0.05)
    assert time.perf_counter() - started < 5
    root = etree.parse(str(tmp_path / manifest.files[0].path)).getroot()
    member_ids = set(texts(root, "insuredMemberIdentifier"))
    births = set(texts(root, "insuredMemberBirthDate"))
    logged = caplog.text
    assert logged, "the run logs its progress"
    assert not any(m in logged for m in member_ids | births)


def test_benefit_year_without_tables_falls_back(tmp_path: Path) -> None:
    manifest = generate_issuer(tmp_path, enrollees=30, seed=5, benefit_year=2031)
    assert manifest.code_sets["source_benefit_year"] == 2025
    root = etree.parse(str(tmp_path / manifest.files[0].path)).getroot()
    assert f"{2031}-" in "".join(texts(root, "coverageStartDate"))


def test_bench_esmcs_reaches_the_target_size(tmp_path: Path) -> None:
    path = tmp_path / "bench.xml"
    result = write_bench_esmcs(path, 1_500_000, seed=3)
    assert result["bytes"] == path.stat().st_size >= 1_500_000
    assert result["claims"] > 0 and result["lines"] >= result["claims"]
    root = etree.parse(str(path)).getroot()
    assert len(list(root.iter(f"{NS}includedMedicalClaimDetail"))) == result["claims"]
    ids = record_ids(root)
    assert ids == list(range(1, len(ids) + 1))
    assert_totals_match(root, ESMCS)


def test_reference_dir_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(reference.ENV_VAR, raising=False)
    assert (reference.reference_dir() / "hhs_hcc_diy").is_dir()
    assert reference.diy_dir(2031, fallback_year=2025).name == "cy2025"
    with pytest.raises(FileNotFoundError, match="benefit year 2031"):
        reference.diy_dir(2031)
    monkeypatch.setenv(reference.ENV_VAR, str(tmp_path))
    assert reference.reference_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match=reference.ENV_VAR):
        reference.diy_dir(2025)
    monkeypatch.setenv(reference.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match=reference.ENV_VAR):
        reference.reference_dir()


def test_enrollment_layout_is_the_one_written(docs: dict[str, etree._Element]) -> None:
    """Guard: the ESES root and issuer element are the layout's, whatever their spelling."""
    root = docs["ESES"]
    assert root.tag == f"{NS}{ESES.root}"
    assert root.find(f"{NS}{ESES.issuer.element}") is not None


@pytest.mark.parametrize("enrollees", [1, 4])
def test_tiny_populations_still_write_complete_files(tmp_path: Path, enrollees: int) -> None:
    """Every file has at least one plan with one record, even without natural claims."""
    manifest = generate_issuer(tmp_path, enrollees, seed=enrollees, error_rate=0.5)
    for entry in manifest.files:
        root = etree.parse(str(tmp_path / entry.path)).getroot()
        layout = BY_NAME[entry.layout]
        assert len(root.find(f"{NS}{layout.issuer.element}")) > len(layout.issuer.fields) - 1
        wrong_totals = [
            d
            for d in manifest.defects
            if d.file == entry.path and d.defect_class == "control_total"
        ]
        if entry.role == "submission" and not wrong_totals:
            assert_totals_match(root, layout)
        if HAS_XSD:
            from edge_pipeline.edge.xsd import load_schema

            schema = load_schema(layout)
            assert schema.validate(etree.ElementTree(root)), schema.error_log
