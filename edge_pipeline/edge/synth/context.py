"""What every claim generator needs besides the family: seed, year, plans, codes, providers."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_pipeline.edge.synth.codes import CodeSets
from edge_pipeline.edge.synth.ids import npi_pool, ordinal
from edge_pipeline.edge.synth.plans import Plan


@dataclass(frozen=True)
class SynthContext:
    """Immutable generation context shared by the claim, pharmacy and supplemental passes."""

    seed: int
    benefit_year: int
    issuer_id: str
    plans: tuple[Plan, ...]
    codes: CodeSets
    professionals: tuple[str, ...] = field(default=())
    facilities: tuple[str, ...] = field(default=())
    pharmacies: tuple[str, ...] = field(default=())

    @property
    def cutoff(self) -> int:
        """Last day a claim may be processed or paid: before the files' generation date."""
        return ordinal(self.benefit_year + 1, 3, 31)

    @classmethod
    def build(
        cls, seed: int, benefit_year: int, issuer_id: str, plans: tuple[Plan, ...], codes: CodeSets
    ) -> SynthContext:
        npis = npi_pool(seed, 360)
        return cls(
            seed=seed,
            benefit_year=benefit_year,
            issuer_id=issuer_id,
            plans=plans,
            codes=codes,
            professionals=tuple(npis[:250]),
            facilities=tuple(npis[250:310]),
            pharmacies=tuple(npis[310:]),
        )
