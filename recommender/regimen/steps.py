"""Which routine step each shelf product fills: cleanse, treat, moisturize or protect.

Which need it answers: "fill the cleanser, the serum, the moisturizer and the sunscreen from
the clinic's shelf". Rules are data (data/regimen/steps.yaml), tried in order and the first
match wins: the shelf's own ``step`` column, then keywords in the product name ("Cleansing
Lactic Acid Toner" is a toner: treat), then in its category, then ingredient-class cues (a
UV filter among the first five ingredients: protect), then the fallback. Every assignment
says which rule made it (``step_reason``), so a wrong guess is easy to spot and to override
with a ``step`` column.
"""

from __future__ import annotations

from recommender.regimen.actives import ClassMention
from recommender.regimen.rules import StepRules


def assign_step(name: str, category: str, explicit: str,
                classes: dict[str, list[ClassMention]], rules: StepRules) -> tuple[str, str]:
    """(step id, why) for one product."""
    if explicit:
        return explicit, f"the shelf's step column says {explicit}"
    text = (name or "").casefold()
    for r in rules.name:
        m = r.pattern.search(text)
        if m:
            return r.step, f"name says {m.group(0)!r}"
    cat = (category or "").casefold()
    for r in rules.category:
        m = r.pattern.search(cat)
        if m:
            return r.step, f"category {category!r} says {m.group(0)!r}"
    for cue in rules.cues:
        for c in sorted(cue.classes):
            hits = [m for m in classes.get(c, []) if m.position <= cue.position_max]
            if hits:
                return cue.step, (f"contains {hits[0].text()} ({c}) among the first "
                                  f"{cue.position_max} ingredients")
    return rules.fallback, f"no name, category or ingredient cue: default step {rules.fallback}"


def allowed_slots(step_slots: tuple[str, ...], classes: dict[str, list[ClassMention]],
                  rules: StepRules) -> tuple[tuple[str, ...], str]:
    """Slots a product may be used in (the step's slots narrowed by ``slot_only`` rules)."""
    slots = tuple(step_slots)
    why = ""
    for so in rules.slot_only:
        hit = next((m for c in sorted(so.classes) for m in classes.get(c, [])
                    if so.position_max is None or m.position <= so.position_max), None)
        if hit is not None:
            narrowed = tuple(s for s in slots if s in so.slots)
            if narrowed != slots:
                slots = narrowed
                why = f"{hit.text()}: {so.reason}"
    return slots, why
