"""Age/sex conditions of the DIY tables: ``9 <= age <= 64``, ``age >=15``, ``male``, ...

Tables 1, 3 and 5 state who a model, an MCE edit, a CC split or a demographic cell applies to
as short texts.  Every one of them is an integer age interval and/or a sex, so they parse into
one small value type that both the SQL engine (``sql``) and the plain-Python baseline
(``matches``) evaluate: one reading of the text, two evaluators that cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MALE, FEMALE = 1, 2
_SEXES = {"male": MALE, "female": FEMALE}
_AGE = r"(?:age|age_last|age_at_diagnosis)"
_NUM = r"(\d+)"
# each pattern → (min, max) from its groups; order matters only for readability
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"^{pattern}$", re.IGNORECASE), kind)
    for pattern, kind in (
        (rf"{_NUM}\s*<=\s*{_AGE}\s*<=\s*{_NUM}", "between"),
        (rf"{_NUM}\s*<=\s*{_AGE}", "min"),
        (rf"{_AGE}\s*>=\s*{_NUM}", "min"),
        (rf"{_AGE}\s*>\s*{_NUM}", "above"),
        (rf"{_AGE}\s*<=\s*{_NUM}", "max"),
        (rf"{_AGE}\s*<\s*{_NUM}", "below"),
        (rf"{_AGE}\s*=\s*{_NUM}", "equal"),
        (rf"{_NUM}\s*=\s*{_AGE}", "equal"),
    )
)


class ConditionError(ValueError):
    """A condition text is not one of the forms the DIY tables use."""


@dataclass(frozen=True)
class AgeSexCondition:
    """Whole-year age in ``[min_age, max_age]`` (``None`` = open) and, if set, this sex."""

    min_age: int | None = None
    max_age: int | None = None
    sex: int | None = None

    def matches(self, age: int | None, sex: int | None) -> bool:
        """Python evaluation (baseline scorer); an unknown age or sex fails a condition on it."""
        if self.min_age is not None and (age is None or age < self.min_age):
            return False
        if self.max_age is not None and (age is None or age > self.max_age):
            return False
        return self.sex is None or sex == self.sex

    def sql(self, age: str, sex: str) -> str:
        """SQL predicate over the given age and sex expressions (``TRUE`` if unconditional)."""
        parts = []
        if self.min_age is not None:
            parts.append(f"{age} >= {self.min_age}")
        if self.max_age is not None:
            parts.append(f"{age} <= {self.max_age}")
        if self.sex is not None:
            parts.append(f"{sex} = {self.sex}")
        return "(" + " AND ".join(parts) + ")" if parts else "TRUE"


def parse_condition(text: str | None) -> AgeSexCondition:
    """Parse ``[Male|Female][,] [age condition]``; empty text means "always".

    Accepts the forms of tables 1, 3 and 5: ``9 <= age <= 64``, ``age >=15``, ``age = 0``,
    ``age < 21``, ``male``, ``Male,   21 <= AGE_LAST <= 24``, ``0 <= AGE_LAST <=   1``.
    """
    text = (text or "").strip()
    if not text:
        return AgeSexCondition()
    sex = None
    head, _, rest = text.partition(",")
    if head.strip().lower() in _SEXES:
        sex, text = _SEXES[head.strip().lower()], rest.strip()
    elif text.lower() in _SEXES:
        return AgeSexCondition(sex=_SEXES[text.lower()])
    if not text:
        return AgeSexCondition(sex=sex)
    for pattern, kind in _PATTERNS:
        found = pattern.match(text)
        if not found:
            continue
        values = [int(g) for g in found.groups()]
        low, high = {
            "between": (values[0], values[-1]),
            "min": (values[0], None),
            "above": (values[0] + 1, None),
            "max": (None, values[0]),
            "below": (None, values[0] - 1),
            "equal": (values[0], values[0]),
        }[kind]
        if low is not None and high is not None and low > high:
            raise ConditionError(f"empty age range in condition {text!r}")
        return AgeSexCondition(low, high, sex)
    raise ConditionError(f"unrecognised age/sex condition {text!r}")
