"""The DIY CSR_INDICATOR of a plan's HIOS CSR variant, from the year's DIY tables.

Apart from :mod:`csr` (which parses the tables' CSR text and knows nothing of a year's
workbook) because it needs the loaded model (:mod:`diy_tables`), which itself builds on
:mod:`csr`: kept here, the two import one way.
"""

from __future__ import annotations

from edge_pipeline.edge.risk.csr import indicator_from_table1
from edge_pipeline.edge.risk.diy_tables import load_diy_model
from edge_pipeline.edge.risk.metals import METALS, metal_code


def csr_indicator_for(benefit_year: int, metal: str, csr_variant: int | str) -> int:
    """DIY CSR_INDICATOR for a HIOS CSR variant id (``"02"`` or 2) of a plan of ``metal``.

    Uses table 13 where the year has one, else table 1's text (module docstring).  Raises
    ValueError for a variant/metal the tables do not describe.
    """
    variant = int(csr_variant)
    code = metal_code(metal)
    model = load_diy_model(benefit_year)
    if model.csr_variants is None:
        return indicator_from_table1(model.csr_indicator_text, variant, code)
    rows = [row for row in model.csr_variants if row.variant == variant]
    if len(rows) == 1:
        return rows[0].indicator
    for row in rows:
        if row.metal == code:
            return row.indicator
    raise ValueError(
        f"table 13 of {benefit_year} has no CSR_INDICATOR for variant {variant:02d} "
        f"of a {METALS[code]} plan"
    )
