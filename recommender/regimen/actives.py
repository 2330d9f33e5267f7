"""Which classes a shelf product contains, and where: the shared input of steps, conflicts
and stop-before rules.

Which need it answers: every conflict and stop must name the ingredient as printed and its
position ("Glycolic Acid, position 3"), so the aesthetician can check it on the label. Only
declared ingredients count (a "may contain" entry is not a dose a routine relies on), and
the ``ignore_mentions`` of data/regimen/conflicts.yaml apply (citric acid after position 10
is a pH adjuster, as in the default protocol).
"""

from __future__ import annotations

from dataclasses import dataclass

from recommender.inci.model import ParsedList
from recommender.regimen.rules import IgnoreMention


@dataclass(frozen=True)
class ClassMention:
    klass: str
    ingredient: str          # as printed
    inci: str | None
    position: int

    def to_dict(self) -> dict:
        return {"class": self.klass, "ingredient": self.ingredient, "inci": self.inci,
                "position": self.position}

    def text(self) -> str:
        return f"{self.ingredient} (position {self.position})"


def class_mentions(parsed: ParsedList | None,
                   ignore: tuple[IgnoreMention, ...] = ()) -> dict[str, list[ClassMention]]:
    """class id -> its declared mentions in list order (ignored mentions left out)."""
    out: dict[str, list[ClassMention]] = {}
    if parsed is None:
        return out
    for m in parsed.ingredients:
        if m.section != "declared" or not m.classes:
            continue
        inci = (m.inci or "").upper()
        for c in m.classes:
            if any(c in ig.classes and inci in ig.inci and m.position >= ig.position_min
                   for ig in ignore):
                continue
            out.setdefault(c, []).append(ClassMention(c, m.raw, m.inci, m.position))
    return out
