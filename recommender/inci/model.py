"""The parser's output: one ``ParsedList`` per ingredient field, one ``Mention`` per ingredient.

Field names follow DESIGN.md's `skinrec check --json` contract (raw, inci, position,
recognized, match, match_score, classes, section, component).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Mention:
    raw: str                       # the ingredient as printed (whitespace tidied, nothing else)
    name: str                      # cleaned name used for lookup (no %, footnote marks, brackets)
    position: int                  # 1-based over the declared list; may-contain continues it
    section: str = "declared"      # "declared" | "may_contain"
    component: int = 0             # index into ParsedList.components (kits, sets, variations)
    percent: float | None = None   # when printed ("Niacinamide 10%")
    alternatives: tuple[str, ...] = ()  # other names printed for it: "Water (Aqua, Eau)", "Aqua/Water"
    inci: str | None = None        # canonical INCI name (CosIng spelling) or None
    match: str | None = None       # "exact" | "alias" | "fuzzy" | "learned" | None
    match_score: float | None = None
    classes: tuple[str, ...] = ()
    class_confidence: float | None = None  # set when classes came from the learned fallback (1.0: a printed-name rule)
    uncertain: bool = False        # the learned fallback was unsure: left unclassed
    match_via: str | None = None   # table that matched: "inventory" | "aliases" | "synonyms" | "fuzzy"

    @property
    def recognized(self) -> bool:
        """True only for an exact or alias-table match (DESIGN.md)."""
        return self.match in ("exact", "alias")

    def to_dict(self) -> dict:
        return {
            "raw": self.raw,
            "inci": self.inci,
            "position": self.position,
            "recognized": self.recognized,
            "match": self.match,
            "match_score": self.match_score,
            "match_via": self.match_via,
            "classes": list(self.classes),
            "class_confidence": self.class_confidence,
            "uncertain": self.uncertain,
            "section": self.section,
            "component": self.component,
            "percent": self.percent,
            "alternatives": list(self.alternatives),
        }


@dataclass(slots=True)
class ParsedList:
    text: str                                   # the field as given
    ingredients: list[Mention] = field(default_factory=list)
    components: list[str | None] = field(default_factory=lambda: [None])  # heading per component
    problems: list[str] = field(default_factory=list)  # what was set aside, and why
    # "ok" | "empty" | "placeholder" | "prose" | "binary" | "too_long": why nothing was read
    status: str = "ok"

    @property
    def found(self) -> bool:
        return self.status == "ok" and bool(self.ingredients)

    @property
    def unrecognized(self) -> list[str]:
        # Mention.recognized inlined: every scored row asks (batch scoring, each request)
        return [m.raw for m in self.ingredients if m.match != "exact" and m.match != "alias"]

    def declared(self) -> list[Mention]:
        return [m for m in self.ingredients if m.section == "declared"]
