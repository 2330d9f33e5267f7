"""``read_list``: label text -> parsed, canonicalised mentions with their classes.

The one place where the parser (which knows no ingredient) meets the knowledge base:
the canonicaliser gets the KB's canonical names, the project's alias table
(``data/aliases.csv``) and the restricted names (never a fuzzy target); each mention then
gets its classes from the curated class rules applied to its KB record (CosIng functions,
EU allergen flag). A name the KB does not know (or knows only by a fuzzy reading) gets its
classes from the learned name-pattern fallback, which reports its probability and leaves a
name it is unsure of unclassed and marked uncertain; a printed name that says what it is
("Essential Oil", "Cashmere Mist Fragrance") gets that class from the class files'
``printed_patterns`` on top. Everything is built once per process.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from recommender import config
from recommender.inci.canonical import Canonicalizer
from recommender.inci.model import ParsedList
from recommender.inci.parse import parse_classified, parse_list
from recommender.knowledge.classes import ClassRules, load_class_rules
from recommender.knowledge.kb import KnowledgeBase, default_kb
from recommender.knowledge.learned_classes import (
    FallbackModel,
    apply_fallback,
    apply_fallback_many,
    default_fallback,
)


def load_aliases(path: Path | None = None) -> dict[str, str]:
    """alias -> canonical INCI, from the project's alias table."""
    path = path or config.ALIASES_FILE
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["alias"]: row["inci"] for row in csv.DictReader(fh) if row.get("alias")}


class Reader:
    """Parser + canonicaliser + classes over one knowledge base."""

    def __init__(self, kb: KnowledgeBase, aliases: dict[str, str], rules: ClassRules,
                 fallback: FallbackModel | None = None):
        self.kb = kb
        self.rules = rules
        self.fallback = fallback
        self.canon = Canonicalizer(
            kb.names(), aliases, kb.restricted_names(), synonyms=kb.synonyms(),
            fuzzy_min_score=config.FUZZY_MIN_SCORE,
            essential_oils=[n for n in kb.names() if "essential_oil" in kb.classes(n)],
        )
        self._classes: dict[str, tuple[str, ...]] = {}
        self._rows: dict = {}  # the parser's Mention fields (classes given) per printed token

    def classes_of(self, inci: str) -> tuple[str, ...]:
        hit = self._classes.get(inci)
        if hit is None:
            rec = self.kb.record(inci) or {}
            hit = self.rules.classify(inci, tuple(rec.get("functions") or ()), bool(rec.get("eu_allergen")))
            self._classes[inci] = hit
        return hit

    def canonicalise(self, name: str) -> str | None:
        """One name (a user's avoid-list word, a printed name) -> canonical INCI or None."""
        parsed = parse_list(name, self.canon)
        if len(parsed.ingredients) == 1 and parsed.ingredients[0].recognized:
            return parsed.ingredients[0].inci
        return None

    def read(self, text: object, *, fuzzy: bool = True) -> ParsedList:
        parsed, learn = self._read_known(text, fuzzy)
        if learn:
            if self.fallback is not None:
                apply_fallback(parsed, self.fallback, self.kb)
            self._printed(parsed)
        return parsed

    def read_many(self, texts, *, fuzzy: bool = True) -> list[ParsedList]:
        """``[read(t) for t in texts]`` with one call of the learned fallback for all the
        names it has not seen (batch scoring: one sklearn call per list with a new unknown
        name cost more than parsing it). Same results as ``read``, list by list."""
        out, learn = [], []
        for text in texts:
            parsed, needs = self._read_known(text, fuzzy)
            out.append(parsed)
            if needs:
                learn.append(parsed)
        if learn:
            if self.fallback is not None:
                apply_fallback_many(learn, self.fallback, self.kb)
            for parsed in learn:
                self._printed(parsed)
        return out

    def _read_known(self, text: object, fuzzy: bool) -> tuple[ParsedList, bool]:
        """Parse, canonicalise and give the curated classes; True when some mention is not
        known exactly or by alias (the fallback and the printed-name rule then apply)."""
        return parse_classified(text, self.canon, fuzzy=fuzzy, classes_of=self.classes_of,
                                rows=self._rows)

    def _printed(self, parsed: ParsedList) -> None:
        for m in parsed.ingredients:
            if m.match is None or m.match == "fuzzy":
                printed = self.rules.classify_printed(m.name)
                if printed and not set(printed) <= set(m.classes):
                    # a curated rule on the printed name: certain, unlike the model's guess
                    m.classes = tuple(sorted(set(m.classes) | set(printed)))
                    m.class_confidence = 1.0
                    m.uncertain = False


@functools.lru_cache(maxsize=1)
def default_reader() -> Reader:
    return Reader(default_kb(), load_aliases(), load_class_rules(), default_fallback())


def read_list(text: object, *, fuzzy: bool = True) -> ParsedList:
    """Parse, canonicalise and classify one ingredient field with the default KB."""
    return default_reader().read(text, fuzzy=fuzzy)
