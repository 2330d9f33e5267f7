"""Conflicts between products used at the same time (the same AM or PM routine).

Which need it answers: "check products used together for conflicts, naming both products
and the ingredients" (issue #7). Rules are data (data/regimen/conflicts.yaml): a product
with a class in ``classes_a`` and *another* product with a class in ``classes_b`` used in
the same slot clash (a single product formulated with both is the formulator's business,
not a layering conflict). Each conflict names both products, the ingredients as printed
with their positions, the rule, its severity, message, source and evidence.

Two scopes:

- ``same_slot``: two products the plan puts in the same routine, with the days and slot;
  the planner never does this for a rule of severity ``avoid`` (it picks the next best
  product), so these are ``caution`` conflicts, reported;
- ``shelf``: two shelf products that would clash if the client layered them once both are
  reintroduced, with how the plan keeps them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from recommender.regimen.actives import ClassMention
from recommender.regimen.rules import ConflictRule, ConflictRules


@dataclass(frozen=True)
class Clash:
    rule: ConflictRule
    a_mentions: tuple[ClassMention, ...]      # first product's matching ingredients
    b_mentions: tuple[ClassMention, ...]


def _hits(classes: dict[str, list[ClassMention]], wanted: frozenset[str]) -> list[ClassMention]:
    return [m for c in sorted(wanted) for m in classes.get(c, [])]


def pair_clashes(a: dict[str, list[ClassMention]], b: dict[str, list[ClassMention]],
                 rules: ConflictRules) -> list[Clash]:
    """Every rule that two (different) products break when used together."""
    out = []
    for r in rules.rules:
        a1, b1 = _hits(a, r.classes_a), _hits(b, r.classes_b)
        if a1 and b1:
            out.append(Clash(r, tuple(a1), tuple(b1)))
            continue
        a2, b2 = _hits(a, r.classes_b), _hits(b, r.classes_a)
        if a2 and b2:
            out.append(Clash(r, tuple(a2), tuple(b2)))
    return out


def blocks(clashes: list[Clash]) -> list[Clash]:
    """The clashes that keep two products out of the same slot."""
    return [c for c in clashes if c.rule.severity == "avoid"]


def conflict_record(clash: Clash, pa: dict, pb: dict, *, scope: str,
                    occurrences: list[dict] | None = None, resolution: str = "") -> dict:
    """The JSON record: both products, their ingredients, the rule and where it applies."""
    r = clash.rule

    def side(p: dict, ms: tuple[ClassMention, ...]) -> dict:
        return {"product_id": p["product_id"], "name": p["name"],
                "ingredients": [m.to_dict() for m in ms]}

    a_ing = ", ".join(m.text() for m in clash.a_mentions)
    b_ing = ", ".join(m.text() for m in clash.b_mentions)
    where = ""
    if occurrences:
        days = sorted({o["day"] for o in occurrences})
        slots = sorted({o["slot"].upper() for o in occurrences})
        where = (f" ({'/'.join(slots)}, day{'s' if len(days) > 1 else ''} "
                 f"{_ranges(days)})")
    text = (f"{pa['name']} [{a_ing}] with {pb['name']} [{b_ing}]{where}: {r.message}")
    return {
        "scope": scope, "rule": r.id, "severity": r.severity,
        "products": [side(pa, clash.a_mentions), side(pb, clash.b_mentions)],
        "occurrences": occurrences or [], "message": r.message, "reason": text,
        "resolution": resolution, "source": r.source, "evidence": r.evidence,
        "see_also": list(r.see_also),
    }


def _ranges(days: list[int]) -> str:
    parts, start, prev = [], None, None
    for d in days:
        if start is None:
            start = prev = d
        elif d == prev + 1:
            prev = d
        else:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = d
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(parts)
