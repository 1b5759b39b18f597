"""Test support for the transfer: an independent implementation of the spec section 8 formula.

Shared by ``test_transfer_rows.py`` (hand-built rows) and ``test_transfer_recompute.py``
(synthetic issuers recomputed from their ESES files), so the reference is written once.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

#: Spec section 8: IDF and AV by metal (written out again here, not imported from the project).
IDF_AV = {
    "platinum": (Fraction("1.15"), Fraction("0.90")),
    "gold": (Fraction("1.08"), Fraction("0.80")),
    "silver": (Fraction("1.03"), Fraction("0.70")),
    "bronze": (Fraction("1.00"), Fraction("0.60")),
    "catastrophic": (Fraction("1.00"), Fraction("0.57")),
}


def reference(rows: list[dict[str, Any]]) -> list[Fraction]:
    """Spec section 8 in exact fractions: the transfer of each row of one pool.  Each row has
    ``metal``, ``bmm``, ``plrs``, ``arf``, ``gcf`` and ``premium`` (PMPM)."""
    bmm = [Fraction(r["bmm"]) for r in rows]
    total = sum(bmm)
    share = [b / total for b in bmm]
    premium = sum(s * Fraction(r["premium"]) for s, r in zip(share, rows, strict=True))
    risk, rating = [], []
    for r in rows:
        idf, av = IDF_AV[r["metal"]]
        risk.append(Fraction(r["plrs"]) * idf * Fraction(r["gcf"]))
        rating.append(av * Fraction(r["arf"]) * idf * Fraction(r["gcf"]))
    risk_mean = sum(s * x for s, x in zip(share, risk, strict=True))
    rating_mean = sum(s * x for s, x in zip(share, rating, strict=True))
    return [
        (x / risk_mean - y / rating_mean) * Fraction("0.86") * premium * b
        for x, y, b in zip(risk, rating, bmm, strict=True)
    ]
