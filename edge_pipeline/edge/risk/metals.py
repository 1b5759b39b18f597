"""Metal levels: the one-letter codes the engine takes and the names the DIY tables use."""

from __future__ import annotations

#: Person-level METAL code → table 9 column stem / CSR formula metal name.
METALS: dict[str, str] = {
    "P": "platinum",
    "G": "gold",
    "S": "silver",
    "B": "bronze",
    "C": "catastrophic",
}


def metal_code(metal: str) -> str:
    """``'S'``, ``'silver'`` or ``'Silver'`` → ``'S'`` (ValueError otherwise)."""
    text = metal.strip()
    if text.upper() in METALS:
        return text.upper()
    for code, name in METALS.items():
        if text.lower() == name:
            return code
    raise ValueError(f"unknown metal level {metal!r} (expected one of {', '.join(METALS)})")
