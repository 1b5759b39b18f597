"""Hand-built enrollees through ``score_population``: every expected score is computed by hand
from the DIY table 9 coefficients (silver column unless stated; BY2025 unless stated), with
the arithmetic in a comment next to it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import pytest

from edge_pipeline.edge.risk.enrollees import Enrollee, store_enrollees
from edge_pipeline.edge.risk.scoring import score_population

D = Decimal
INSULIN, ANTIDIABETIC = "00002021301", "00002115201"  # table 10a: RXC 6 and RXC 7


@dataclass
class Result:
    model: str | None
    csr_factor: Decimal | None
    raw: Decimal | None
    adjusted: Decimal | None
    terms: dict[str, Decimal]
    hccs: set[tuple[str, str]]
    rxcs: set[tuple[str, str, str]]
    dropped: dict[str, str]


def person(
    pid: str,
    age: int,
    sex: int,
    *dx: str,
    year: int = 2025,
    born: dt.date | None = None,
    on: dt.date | None = None,
    metal: str = "S",
    csr: int = 1,
    months: int = 12,
    ndc: tuple[str, ...] = (),
) -> Enrollee:
    """An enrollee born Jan 15 (so AGE_LAST = age at every date after it), diagnoses on Sep 1."""
    born = born or dt.date(year - age, 1, 15)
    on = on or dt.date(year, 9, 1)
    return Enrollee(pid, sex, born, age, metal, csr, months, [(c, on) for c in dx], list(ndc), [])


def score(*people: Enrollee, year: int = 2025) -> dict[str, Result]:
    con = duckdb.connect()
    score_population(con, year, **store_enrollees(con, people))
    out = {
        pid: Result(model, factor, raw, adj, {}, set(), set(), {})
        for pid, model, factor, raw, adj in con.execute("SELECT * FROM risk_score").fetchall()
    }
    for pid, variable, _kind, coefficient in con.execute("SELECT * FROM risk_term").fetchall():
        out[pid].terms[variable] = coefficient
    for pid, hcc, code in con.execute("SELECT * FROM risk_hcc_source").fetchall():
        out[pid].hccs.add((hcc, code))
    for pid, rxc, kind, code in con.execute("SELECT * FROM risk_rxc_source").fetchall():
        out[pid].rxcs.add((rxc, kind, code))
    for pid, hcc, by in con.execute("SELECT * FROM risk_dropped_hcc").fetchall():
        out[pid].dropped[hcc] = by
    for r in out.values():  # the terms always add up to the raw score
        assert r.raw is None or sum(r.terms.values(), D(0)) == r.raw
    return out


def test_worked_example_2025() -> None:
    r = score(person("E", 55, 2, "A419", "I5022", "E1165", "N186", csr=3, months=4))["E"]
    # FAGE_LAST_55_59 .271 + HCC002 8.830 + HCC130 1.773 + HCC184 20.330 + G01 .172 (HCC 21)
    # + SEVERE_HCC_COUNT4 -4.033 (HCC 2 severe; 4 = 002, 130, 184, G01) + HCC_ED4 1.545
    assert r.raw == D("28.888")
    assert r.adjusted == D("32.355")  # 28.888 x 1.12 = 32.35456
    assert r.csr_factor == D("1.120") and r.model == "adult"
    assert ("HHS_HCC021", "E1165") in r.hccs  # hcc_source: after hierarchy, before groups
    assert "HHS_HCC021" not in r.terms and r.terms["G01"] == D("0.172")


def test_worked_example_2024() -> None:
    e = person("E", 55, 2, "A419", "I5022", "E1165", "N186", year=2024, csr=3, months=4)
    r = score(e, year=2024)["E"]
    # 2024: .278 + 9.265 + 1.943 + 22.091 + G01 .189 - 3.884 + HCC_ED4 1.536 = 31.418
    assert r.raw == D("31.418")
    assert r.adjusted == D("35.188")  # 31.418 x 1.12 = 35.18816


def test_model_boundaries() -> None:
    r = score(person("a1", 1, 2), person("m1", 1, 1), person("c2", 2, 1), person("c20", 20, 2))
    r |= score(person("a21", 21, 1))
    assert (r["a1"].model, r["a1"].terms) == ("infant", {"AGE1_X_SEVERITY1": D("0.431")})
    # male age 1: AGE1_X_SEVERITY1 .431 + AGE1_MALE .060
    assert r["m1"].raw == D("0.491")
    assert (r["c2"].model, r["c2"].terms) == ("child", {"MAGE_LAST_2_4": D("0.141")})
    assert r["c20"].terms == {"FAGE_LAST_15_20": D("0.145")}
    assert (r["a21"].model, r["a21"].terms) == ("adult", {"MAGE_LAST_21_24": D("0.086")})


def test_infants_newborn_code_and_age1_reassignment() -> None:
    born = dt.date(2025, 1, 15)
    r = score(
        person("term_f", 0, 2, "Z3800", born=born, on=born),
        person("term_m", 0, 1, "Z3800", born=born, on=born),
        person("none_f", 0, 2, born=born),
        person("nonewborn_m", 0, 1, "D66", born=born),
    )
    # HCC 249 (term newborn), no severity HCC -> SEVERITY1: TERM_X_SEVERITY1 1.135
    assert r["term_f"].terms == {"TERM_X_SEVERITY1": D("1.135")}
    assert r["term_f"].hccs == {("HHS_HCC249", "Z3800")}
    # male: + AGE0_MALE .539 = 1.674
    assert r["term_m"].raw == D("1.674")
    # age 0 without a newborn HCC -> IHCC_AGE1: AGE1_X_SEVERITY1 .431
    assert r["none_f"].terms == {"AGE1_X_SEVERITY1": D("0.431")}
    # D66 male split -> HCC 66 (SEVERITY3); no newborn HCC -> AGE1 maturity, and the male
    # demographic AGE0_MALE is reassigned to AGE1_MALE: 2.374 + .060 = 2.434
    assert r["nonewborn_m"].terms == {"AGE1_X_SEVERITY3": D("2.374"), "AGE1_MALE": D("0.060")}
    assert r["nonewborn_m"].hccs == {("HHS_HCC066", "D66")}


def test_enrollment_duration_needs_an_hcc() -> None:
    r = score(
        person("ed6", 40, 1, "G40909", months=6),
        person("ed7", 40, 1, "G40909", months=7),
        person("ed6_none", 40, 1, months=6),
    )
    assert r["ed6"].raw == D("1.732")  # MAGE_LAST_40_44 .143 + HCC120 .884 + HCC_ED6 .705
    assert r["ed7"].raw == D("1.027")  # .143 + .884, no ED term after 6 months
    assert r["ed6_none"].terms == {"MAGE_LAST_40_44": D("0.143")}  # no HCC: no ED term


NINE = ("A419", "B20", "E43", "K5090", "M0579", "G40909", "I5022", "I480", "I2699")


def test_severe_count_9_and_10_plus() -> None:
    r = score(person("nine", 40, 1, *NINE), person("ten", 40, 1, *NINE, "S72001A"))
    # .143 + HCC002 8.830 + 001 .234 + 023 11.179 + 048 .944 + 056 .930 + 120 .884
    # + 130 1.773 + 142 1.752 + 156 7.461 = 34.130; + SEVERE_HCC_COUNT9 .676 = 34.806
    assert r["nine"].raw == D("34.806") and "SEVERE_HCC_COUNT9" in r["nine"].terms
    # + HCC226 7.765 = 41.895; + SEVERE_HCC_COUNT10PLUS 8.836 = 50.731
    assert r["ten"].raw == D("50.731") and "SEVERE_HCC_COUNT10PLUS" in r["ten"].terms


def test_transplant_3_and_4_hccs() -> None:
    r = score(
        person("three", 40, 1, "T8640", "B20", "G40909"),
        person("four", 40, 1, "T8640", "B20", "G40909", "I480"),
    )
    # .143 + HCC034 6.119 + 001 .234 + 120 .884 + SEVERE_HCC_COUNT3 -4.891 = 2.489
    assert r["three"].raw == D("2.489")
    assert not any(t.startswith("TRANSPLANT") for t in r["three"].terms)
    # .143 + 6.119 + .234 + .884 + 142 1.752 - SEVERE4 4.033 + TRANSPLANT_HCC_COUNT4 3.651
    assert r["four"].raw == D("8.750")
    assert r["four"].terms["TRANSPLANT_HCC_COUNT4"] == D("3.651")


def test_g24_pancreas_transplant_and_its_hierarchy() -> None:
    r = score(person("g24", 40, 1, "Z9483", "E1122"))["g24"]
    # HCC 18 zeroes HCC 20 (table 4); G24 absorbs 18, and is SEVERE: CNT 1
    # .143 + G24 6.239 + SEVERE_HCC_COUNT1 -6.119 = .263
    assert r.raw == D("0.263")
    assert r.dropped == {"HHS_HCC020": "HHS_HCC018"}
    assert r.hccs == {("HHS_HCC018", "Z9483")}


def test_rxc_06_interacts_with_hcc_20_before_g01_absorbs_it() -> None:
    for year, expected in ((2025, "1.865"), (2024, "1.907")):
        e = person("rx", 40, 1, "E1122", year=year, ndc=(INSULIN,))
        r = score(e, year=year)["rx"]
        # 2025: .143 + G01 .172 + RXC_06 1.018 + RXC_06_X_HCC018_019_020_021 .532 = 1.865
        # 2024: .129 + G01 .189 + RXC_06 1.022 + RXC_06_X_HCC018_019_020_021 .567 = 1.907
        assert r.raw == D(expected), year
        assert "RXC_06_X_HCC018_019_020_021" in r.terms
        assert r.rxcs == {("RXC_06", "NDC", INSULIN)}


def test_rxc_hierarchy_06_zeroes_07() -> None:
    r = score(person("rx", 40, 1, ndc=(INSULIN, ANTIDIABETIC)))["rx"]
    assert r.raw == D("1.161")  # .143 + RXC_06 1.018; RXC_07 zeroed
    assert r.dropped == {"RXC_07": "RXC_06"}
    assert r.rxcs == {("RXC_06", "NDC", INSULIN)}


# Adult male 40 with HCC 120: raw by metal P .282+1.040 G .203+.948 S .143+.884 B .095+.792
RAW = {"P": D("1.322"), "G": D("1.151"), "S": D("1.027"), "B": D("0.887")}
CSR_2025 = {  # indicator: (metal, factor, adjusted = raw x factor, half-up)
    1: ("S", "1.00", "1.027"),
    2: ("G", "1.07", "1.232"),  # 1.23157
    3: ("S", "1.12", "1.150"),  # 1.15024
    4: ("B", "1.51", "1.339"),  # 1.33937
    5: ("B", "1.19", "1.056"),  # 1.05553
    6: ("P", "1.31", "1.732"),  # 1.73182
    7: ("P", "1.04", "1.375"),  # 1.37488
    8: ("G", "1.39", "1.600"),  # 1.59989
    9: ("G", "1.10", "1.266"),  # 1.2661
    10: ("S", "1.46", "1.499"),  # 1.49942
    11: ("S", "1.15", "1.181"),  # 1.18105
}


def test_every_csr_indicator_2025() -> None:
    people = [person(str(i), 40, 1, "G40909", metal=m, csr=i) for i, (m, _, _) in CSR_2025.items()]
    r = score(*people)
    for i, (metal, factor, adjusted) in CSR_2025.items():
        got = (r[str(i)].raw, r[str(i)].csr_factor, r[str(i)].adjusted)
        assert got == (RAW[metal], D(factor), D(adjusted)), i


def test_every_csr_indicator_2024() -> None:
    # no diagnosis: MAGE_LAST_40_44 2024 = P .280 G .189 S .129 B .083
    cases = {1: ("P", "1.00", "0.280"), 2: ("G", "1.07", "0.202")}  # .20223
    cases |= {3: ("S", "1.12", "0.144"), 4: ("B", "1.15", "0.095")}  # .14448, .09545
    people = [person(str(i), 40, 1, year=2024, metal=m, csr=i) for i, (m, _, _) in cases.items()]
    r = score(*people, year=2024)
    for i, (_, factor, adjusted) in cases.items():
        assert (r[str(i)].csr_factor, r[str(i)].adjusted) == (D(factor), D(adjusted))


def test_csr_indicator_of_another_metal_leaves_the_adjusted_score_missing() -> None:
    r = score(person("p", 40, 1, "G40909", metal="S", csr=2))["p"]  # 2 adjusts gold only
    assert (r.raw, r.csr_factor, r.adjusted) == (D("1.027"), None, None)


def test_mce_age_edit_uses_age_at_diagnosis() -> None:
    r = score(
        person("at64", 64, 2, "O80"),  # O80: MCE 9 <= age <= 64 -> HCC 209
        person("at65", 65, 2, "O80"),
        # 64 at diagnosis (Sep 1), 65 by December 31: the edit passes
        person("turns65", 65, 2, "O80", born=dt.date(1960, 10, 15)),
    )
    assert r["at64"].raw == D("2.596")  # FAGE_LAST_60_GT .261 + HCC209 2.335
    assert r["at65"].terms == {"FAGE_LAST_60_GT": D("0.261")}  # diagnosis dropped
    assert r["turns65"].raw == D("2.596")


def test_fiscal_year_validity_of_the_service_date() -> None:
    # C810A: valid_fy N (FY2025), second flag Y (FY2026) -> HCC 12;
    # C8339: valid in FY2025 only -> HCC 10.  October 1 starts FY2026.
    r = score(
        person("c810a_sep", 45, 2, "C810A", on=dt.date(2025, 9, 30)),
        person("c810a_oct", 45, 2, "C810A", on=dt.date(2025, 10, 1)),
        person("c8339_mar", 45, 2, "C8339", on=dt.date(2025, 3, 1)),
        person("c8339_nov", 45, 2, "C8339", on=dt.date(2025, 11, 1)),
    )
    assert r["c810a_sep"].raw == D("0.277")  # FAGE_LAST_45_49 only
    assert r["c810a_oct"].raw == D("2.507")  # .277 + HCC012 2.230
    assert r["c8339_mar"].raw == D("5.750")  # .277 + HCC010 5.473
    assert r["c8339_nov"].raw == D("0.277")


def test_cc_age_split_uses_age_last() -> None:
    r = score(
        person("49", 49, 2, "C50011"),  # age < 50 -> HCC 11
        # 49 on the service date, 50 on December 31: the split follows AGE_LAST -> HCC 12
        person("50", 50, 2, "C50011", born=dt.date(1975, 10, 15)),
    )
    assert r["49"].raw == D("3.682")  # FAGE_LAST_45_49 .277 + HCC011 3.405
    assert r["50"].raw == D("2.537")  # FAGE_LAST_50_54 .307 + HCC012 2.230


def test_hierarchy_drops_and_names_the_hcc_that_zeroed_it() -> None:
    r = score(person("cancer", 50, 2, "C7800", "C50011"))["cancer"]
    assert r.raw == D("22.923")  # .307 + HCC008 22.616; HCC 8 zeroes HCC 12
    assert r.dropped == {"HHS_HCC012": "HHS_HCC008"}
    assert r.hccs == {("HHS_HCC008", "C7800")}


def test_hierarchy_in_table_order_on_current_values() -> None:
    # HCC 203 (table 4 row 115) zeroes 204 before HCC 207 (row 118) zeroes 203
    r = score(person("preg", 30, 2, "O0000", "O030", "O032"))["preg"]
    assert r.dropped == {"HHS_HCC204": "HHS_HCC203", "HHS_HCC203": "HHS_HCC207"}
    assert r.raw == D("3.477")  # FAGE_LAST_30_34 .188 + G18A 3.289 (HCC 207)


CHILD_SIX = ("B20", "K5090", "M0579", "G40909", "I5022", "I480")


def test_child_severe_count_6_7_only_when_severe() -> None:
    r = score(
        person("plain7", 10, 1, *CHILD_SIX, "S72001A"),
        person("severe7", 10, 1, *CHILD_SIX, "A419"),
    )
    # MAGE_LAST_10_14 .115 + 001 3.856 + 048 9.498 + 056 4.315 + 120 1.316 + 130 3.914
    # + 142 2.899 = 25.913; + 226 4.327 = 30.240 (not severe: no SEVERE_HCC_COUNT6_7)
    assert r["plain7"].raw == D("30.240")
    assert "SEVERE_HCC_COUNT6_7" not in r["plain7"].terms
    # 25.913 + HCC002 14.294 + SEVERE_HCC_COUNT6_7 -1.468 = 38.739
    assert r["severe7"].raw == D("38.739")


def test_every_person_gets_one_row_even_without_a_model() -> None:
    e = person("nomodel", 30, 1)
    e.age_last = None
    r = score(e, person("bad_metal", 30, 1, metal="X"), person("ok", 30, 1))
    assert (r["nomodel"].model, r["nomodel"].raw, r["nomodel"].adjusted) == (None, None, None)
    assert (r["bad_metal"].model, r["bad_metal"].raw) == (None, None)
    assert r["ok"].raw is not None


def test_repeated_person_id_is_refused() -> None:
    con = duckdb.connect()
    tables = store_enrollees(con, [person("x", 30, 1), person("x", 31, 1)])
    with pytest.raises(ValueError, match="appears more than once"):
        score_population(con, 2025, **tables)
