"""Deterministic seeds, masked identifiers, NPIs, dates: the synthetic data's small arithmetic.

Everything derives from the master seed through ``derive_seed`` so that any family, claim or
file can be regenerated on its own (streaming: nothing is kept in memory between passes) and
the same arguments always give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import random

_MASK64 = (1 << 64) - 1

#: Stream tags: one independent random stream per purpose, so adding draws to one stream never
#: changes another's values.
STREAMS = {
    "issuer": 1,
    "family": 2,
    "medical": 3,
    "pharmacy": 4,
    "supplemental": 5,
    "defects": 6,
    "codes": 7,
    "providers": 8,
    "market": 9,
    "high_cost": 10,
    "mover": 11,
}


def splitmix64(x: int) -> int:
    """One step of SplitMix64: a fast, well-mixed 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def derive_seed(seed: int, stream: str, index: int = 0) -> int:
    """A 64-bit seed for ``(master seed, stream, index)``; stable across Python runs."""
    return splitmix64(splitmix64(splitmix64(seed & _MASK64) ^ STREAMS[stream]) ^ index)


def rng_for(seed: int, stream: str, index: int = 0) -> random.Random:
    """An independent generator for one family / file / purpose."""
    return random.Random(derive_seed(seed, stream, index))


def masked_member_id(seed: int, family: int, member: int) -> str:
    """A masked, issuer-unique enrollee id (16 upper-case hex characters).

    A bijection of ``(family, member)`` (odd multiplier and xor key modulo 2**64), so ids are
    unique by construction yet carry no visible sequence.
    """
    key = derive_seed(seed, "issuer", 17)
    value = (((family << 5) | member) * 0xD6E8FEB86659FD93 + key) & _MASK64
    return f"{value ^ (key >> 7):016X}"


def luhn_check_digit(digits: str) -> int:
    """Luhn check digit of ``digits`` (the digit that would be appended)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def make_npi(base9: str) -> str:
    """A valid 10-digit NPI: 9 digits + Luhn check digit computed with the 80840 prefix."""
    return base9 + str(luhn_check_digit("80840" + base9))


def npi_is_valid(npi: str) -> bool:
    """True when ``npi`` has 10 digits and the Luhn check digit (prefix 80840) holds."""
    return len(npi) == 10 and npi.isdigit() and make_npi(npi[:9]) == npi


def npi_pool(seed: int, count: int) -> list[str]:
    """``count`` distinct valid NPIs (first digit 1 or 2, as NPPES issues them)."""
    rng = rng_for(seed, "providers")
    found: dict[str, None] = {}
    while len(found) < count:
        base = f"{rng.choice('12')}{rng.randrange(10**8):08d}"
        found[make_npi(base)] = None
    return list(found)


_DATE_CACHE: dict[int, str] = {}


def iso(ordinal: int) -> str:
    """``YYYY-MM-DD`` of a proleptic ordinal (cached: a file uses a few thousand dates)."""
    text = _DATE_CACHE.get(ordinal)
    if text is None:
        text = dt.date.fromordinal(ordinal).isoformat()
        _DATE_CACHE[ordinal] = text
    return text


def us_date(ordinal: int) -> str:
    """``MM/DD/YYYY``: a real date in the wrong format (a face-validity defect)."""
    return dt.date.fromordinal(ordinal).strftime("%m/%d/%Y")


def iso_datetime(ordinal: int, seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` from a day ordinal and seconds after midnight."""
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{iso(ordinal)}T{h:02d}:{m:02d}:{s:02d}"


def ordinal(year: int, month: int, day: int) -> int:
    return dt.date(year, month, day).toordinal()


def month_end(year: int, month: int) -> int:
    """Ordinal of the last day of a month."""
    if month == 12:
        return dt.date(year, 12, 31).toordinal()
    return dt.date(year, month + 1, 1).toordinal() - 1


def cents(amount: int) -> str:
    """Integer cents as a decimal amount with two places, no separators."""
    return f"{amount // 100}.{amount % 100:02d}"
