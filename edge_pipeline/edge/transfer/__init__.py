"""The RA state payment transfer (spec section 8): transfer elements, the transfer formula,
the high-cost risk pool and the RA user fee.

Order for a scoring run (after ``score_run``): :func:`compute_transfer_elements` (RATEE), then
:func:`estimate_transfers`, which reads the RATEE and writes the high-cost risk pool
(``shadow_hcrp_enrollee`` and ``shadow_hcrp_summary``: HCRPDE, HCRPSR) and the RA user fee
(``shadow_rauf``: RAUF) with the estimate; :func:`compute_hcrp` writes the HCRP rows alone.
"""

from edge_pipeline.edge.transfer.elements import compute_transfer_elements
from edge_pipeline.edge.transfer.estimate import PoolEstimate, TransferEstimate, estimate_transfers
from edge_pipeline.edge.transfer.factors import DEFAULT_GCF, age_curve, read_gcf
from edge_pipeline.edge.transfer.formula import (
    ADMIN_FACTOR,
    METAL_FACTORS,
    MetalFactors,
    PlanInput,
    PlanTransfer,
    PoolError,
    PoolTransfer,
    metal_factors,
    normalize_metal,
    pool_transfers,
    round_to_zero_sum,
)
from edge_pipeline.edge.transfer.hcrp import (
    HCRP_CHARGE_RATE,
    HCRP_COINSURANCE,
    HCRP_THRESHOLD,
    compute_hcrp,
    write_hcrp,
)
from edge_pipeline.edge.transfer.inputs import TransferInputError
from edge_pipeline.edge.transfer.market import MarketPlan, read_market
from edge_pipeline.edge.transfer.pool_csv import PoolFileResult, transfer_pool_file
from edge_pipeline.edge.transfer.schema import TRANSFER_DDL, ensure_transfer_schema
from edge_pipeline.edge.transfer.user_fee import (
    DEFAULT_USER_FEE_PATH,
    read_user_fees,
    user_fee_pmpm,
    write_rauf,
)

__all__ = [
    "ADMIN_FACTOR",
    "DEFAULT_GCF",
    "DEFAULT_USER_FEE_PATH",
    "HCRP_CHARGE_RATE",
    "HCRP_COINSURANCE",
    "HCRP_THRESHOLD",
    "METAL_FACTORS",
    "TRANSFER_DDL",
    "MarketPlan",
    "MetalFactors",
    "PlanInput",
    "PlanTransfer",
    "PoolError",
    "PoolEstimate",
    "PoolFileResult",
    "PoolTransfer",
    "TransferEstimate",
    "TransferInputError",
    "age_curve",
    "compute_hcrp",
    "compute_transfer_elements",
    "ensure_transfer_schema",
    "estimate_transfers",
    "metal_factors",
    "normalize_metal",
    "pool_transfers",
    "read_gcf",
    "read_market",
    "read_user_fees",
    "round_to_zero_sum",
    "transfer_pool_file",
    "user_fee_pmpm",
    "write_hcrp",
    "write_rauf",
]
