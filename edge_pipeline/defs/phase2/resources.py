"""The issuer's transfer settings: geographic cost factors, the market file, the user fee.

Like the plan registry, these are the issuer's (or its state's) data, not the project's: a
deployment points at its own files, the demo at what the synthetic generator wrote.  Only paths
are configured here; they are resolved when the transfer assets run, so a file dropped into the
issuer folder later is seen by the next run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from pydantic import Field

from edge_pipeline.defs.reference.resources import default_issuer_dir

GCF_FILE = "gcf.csv"
MARKET_FILE = "market_pool.csv"


@dataclass(frozen=True)
class TransferFiles:
    """The files a transfer run reads (``None``: not configured, the documented default)."""

    gcf: Path | None
    market_pool: Path | None
    user_fee: Path | None
    age_curve: Path | None


class TransferSettingsResource(dg.ConfigurableResource):
    """Files the RA transfer estimate reads.  An explicitly configured file must exist (a typo
    must fail, not default silently); the issuer folder's ``gcf.csv`` and ``market_pool.csv``
    are used when present."""

    issuer_dir: str = Field(description="Folder of the issuer's files (default data/issuer).")
    gcf: str = Field(default="", description="CSV state,rating_area,gcf (default: GCF 1.0).")
    market_pool: str = Field(
        default="",
        description="CSV of the other issuers' plan aggregates per state risk pool.",
    )
    user_fee: str = Field(
        default="", description="CSV benefit_year,user_fee_pmpm (default: packaged HHS values)."
    )
    age_curve: str = Field(
        default="", description="A state age rating curve CSV (default: the federal curve)."
    )

    def files(self) -> TransferFiles:
        """Resolve the settings; raises ``FileNotFoundError`` naming a configured file that is
        missing."""
        missing = [
            f"{name}={value}"
            for name, value in (
                ("gcf", self.gcf),
                ("market_pool", self.market_pool),
                ("user_fee", self.user_fee),
                ("age_curve", self.age_curve),
            )
            if value and not Path(value).is_file()
        ]
        if missing:
            raise FileNotFoundError("transfer settings name missing files: " + ", ".join(missing))
        folder = Path(self.issuer_dir)

        def chosen(value: str, default_name: str | None = None) -> Path | None:
            if value:
                return Path(value)
            default = folder / default_name if default_name else None
            return default if default is not None and default.is_file() else None

        return TransferFiles(
            gcf=chosen(self.gcf, GCF_FILE),
            market_pool=chosen(self.market_pool, MARKET_FILE),
            user_fee=chosen(self.user_fee),
            age_curve=chosen(self.age_curve),
        )


def transfer_settings_resource(issuer_dir: Path | None = None) -> TransferSettingsResource:
    """Settings from ``$EDGE_GCF``, ``$EDGE_MARKET_POOL``, ``$EDGE_RA_USER_FEE`` and
    ``$EDGE_AGE_CURVE`` over the issuer folder (default ``data/issuer``)."""
    return TransferSettingsResource(
        issuer_dir=str(issuer_dir or default_issuer_dir()),
        gcf=os.environ.get("EDGE_GCF", ""),
        market_pool=os.environ.get("EDGE_MARKET_POOL", ""),
        user_fee=os.environ.get("EDGE_RA_USER_FEE", ""),
        age_curve=os.environ.get("EDGE_AGE_CURVE", ""),
    )
