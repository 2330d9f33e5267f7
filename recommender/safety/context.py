"""Who is asking, and when: time after treatment, depth, modality, avoid-list, pregnancy.

Which real input each part answers:

- "I was needled yesterday at 1.0 mm": ``Context.make(day=1, depth=1.0)``; "36 hours ago"
  is ``Context.make(hours=36)`` and equals ``day=1.5`` (DESIGN.md: t is in days after the end
  of the treatment). Defaults when omitted: day 1, depth 1.0 mm, modality mn.
- "I react to vitamin B3" / "no retinoids": a personal avoid-list of ingredient names or
  class names. The engine only sees it resolved to canonical INCI names and class ids;
  :func:`resolve_avoid_list` does the resolving with the canonicaliser and the class
  vocabulary it is given, so "vitamin b3" and "Nicotinamide" both catch NIACINAMIDE. Items
  that resolve to nothing are kept (matched by folded name) and reported as unresolved, never
  dropped silently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from recommender.memo import remember
from recommender.safety.protocol import KNOWN_CLASSES

DEFAULT_DAY = 1.0
DEFAULT_DEPTH_MM = 1.0
DEFAULT_MODALITY = "mn"


def fold_name(text: str) -> str:
    """Case-, space- and punctuation-insensitive key for names ("Alcohol Denat." -> "alcohol denat")."""
    text = str(text).casefold().replace("&", " and ")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


@dataclass(frozen=True, slots=True)
class AvoidList:
    """A personal avoid-list, resolved.

    ``items``: what the person typed; ``inci``: canonical INCI names (upper case) to avoid,
    each mapped to the item that produced it; ``classes``: class ids likewise; ``names``:
    folded names of items that resolved to nothing (matched against printed names);
    ``unresolved``: those items as typed.
    """

    items: tuple[str, ...] = ()
    inci: dict[str, str] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    unresolved: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.inci or self.classes or self.names)

    def to_dict(self) -> dict:
        return {
            "items": list(self.items),
            "inci": sorted(self.inci),
            "classes": sorted(self.classes),
            "unresolved": list(self.unresolved),
        }


EMPTY_AVOID = AvoidList()


def split_avoid_items(items: str | Iterable[str] | None) -> list[str]:
    """"a, b" or ["a", "b,c"] -> ["a", "b", "c"] (commas separate items; blanks dropped)."""
    if items is None:
        return []
    if isinstance(items, str):
        items = [items]
    out: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = " ".join(part.split())
            if part and part not in out:
                out.append(part)
    return out


def resolve_avoid_list(
    items: str | Iterable[str] | None,
    canonicalise: Callable[[str], str | None] | None = None,
    class_for_query: Callable[[str], str | None] | None = None,
) -> AvoidList:
    """Resolve what a person typed into canonical INCI names and class ids.

    ``canonicalise(name) -> INCI or None`` is the lead's canonicaliser (so "Nicotinamide" and
    "vitamin b3" reach NIACINAMIDE); ``class_for_query(text) -> class id or None`` maps words
    like "retinoids", "AHA", "vitamin c" to classes. Without them only exact class ids
    ("retinoid", "drying alcohol") and printed names match. An item may resolve to both an
    INCI name and a class ("niacinamide"): both are kept.
    """
    typed = split_avoid_items(items)
    inci: dict[str, str] = {}
    classes: dict[str, str] = {}
    names: dict[str, str] = {}
    unresolved: list[str] = []
    for item in typed:
        hit = False
        cls, canon = _resolve_item(item, canonicalise, class_for_query)
        if cls is not None:
            classes.setdefault(cls, item)
            hit = True
        if canon:
            inci.setdefault(" ".join(str(canon).upper().split()), item)
            hit = True
        if not hit:
            unresolved.append(item)
            names.setdefault(fold_name(item), item)
    return AvoidList(tuple(typed), inci, classes, names, tuple(unresolved))


# (item, canonicalise, class_for_query) -> (class id, canonical INCI): the web app resolves
# the same few typed items ("fragrance", "niacinamide") on every request that sends them,
# each through the class vocabulary and the canonicaliser (~0.1 ms an item)
_RESOLVED: dict = {}


def _resolve_item(item: str, canonicalise, class_for_query) -> tuple[str | None, str | None]:
    """(class id or None, canonical INCI or None) of one typed avoid-list item, remembered
    per resolvers (both are fixed functions of the loaded knowledge base)."""
    key = (item, canonicalise, class_for_query)
    got = _RESOLVED.get(key)
    if got is not None:
        return got
    cls = class_for_query(item) if class_for_query is not None else None
    if cls is None:
        folded = fold_name(item).replace(" ", "_")
        for cand in (folded, folded[:-1] if folded.endswith("s") else None):
            if cand in KNOWN_CLASSES:
                cls = cand
                break
    canon = canonicalise(item) if canonicalise is not None else None
    return remember(_RESOLVED, key, (cls, canon))


def default_resolvers() -> tuple[Callable | None, Callable | None]:
    """(canonicalise, class_for_query) from the knowledge modules when they are available."""
    canonicalise = class_for_query = None
    try:  # the class vocabulary (recommender.knowledge.classes)
        from recommender.knowledge.classes import load_class_rules

        class_for_query = load_class_rules().classes_for_query
    except Exception:  # noqa: BLE001 - optional until the knowledge base is built
        class_for_query = None
    try:  # the reader's canonicaliser: name -> canonical INCI (recommender.knowledge.reader)
        from recommender.knowledge.reader import default_reader

        canonicalise = default_reader().canonicalise
    except Exception:  # noqa: BLE001 - optional until the knowledge base is built
        canonicalise = None
    return canonicalise, class_for_query


@dataclass(frozen=True, slots=True)
class Context:
    """One person at one time after one treatment.

    ``t``: days after the end of the treatment (float, >= 0). ``depth_mm``: needle depth.
    ``modality``: "mn" | "rf" | "prp" (the protocol may define more).
    """

    t: float = DEFAULT_DAY
    depth_mm: float = DEFAULT_DEPTH_MM
    modality: str = DEFAULT_MODALITY
    avoid: AvoidList = EMPTY_AVOID
    pregnant: bool = False

    def __post_init__(self):
        if isinstance(self.t, bool) or not isinstance(self.t, int | float) or \
                not math.isfinite(self.t) or self.t < 0:
            raise ValueError(f"time after treatment must be a number of days >= 0, got {self.t!r}")
        if isinstance(self.depth_mm, bool) or not isinstance(self.depth_mm, int | float) or \
                not math.isfinite(self.depth_mm) or self.depth_mm <= 0:
            raise ValueError(f"depth must be a positive number of mm, got {self.depth_mm!r}")
        if not isinstance(self.modality, str) or not self.modality.strip():
            raise ValueError(f"modality must be a word such as mn, rf or prp, got {self.modality!r}")
        object.__setattr__(self, "t", float(self.t))
        object.__setattr__(self, "depth_mm", float(self.depth_mm))
        object.__setattr__(self, "modality", self.modality.strip().lower())
        if not isinstance(self.avoid, AvoidList):
            object.__setattr__(self, "avoid", resolve_avoid_list(self.avoid))

    @classmethod
    def make(
        cls,
        *,
        hours: float | None = None,
        day: float | None = None,
        depth: float | None = None,
        modality: str | None = None,
        avoid: AvoidList | str | Iterable[str] | None = None,
        pregnant: bool = False,
        canonicalise: Callable[[str], str | None] | None = None,
        class_for_query: Callable[[str], str | None] | None = None,
    ) -> Context:
        """Build a context from CLI/API style arguments; ``hours`` and ``day`` exclude each other.

        ``avoid`` may be already resolved (:class:`AvoidList`) or raw text/items, resolved here
        with ``canonicalise`` / ``class_for_query``.
        """
        if hours is not None and day is not None:
            raise ValueError("give the time after treatment in hours or in days, not both")
        if hours is not None:
            if isinstance(hours, bool) or not isinstance(hours, int | float) or \
                    not math.isfinite(hours) or hours < 0:
                raise ValueError(f"hours after treatment must be a number >= 0, got {hours!r}")
            t = hours / 24.0
        elif day is not None:
            t = day
        else:
            t = DEFAULT_DAY
        if not isinstance(avoid, AvoidList):
            avoid = resolve_avoid_list(avoid, canonicalise, class_for_query)
        return cls(
            t=t,
            depth_mm=DEFAULT_DEPTH_MM if depth is None else depth,
            modality=DEFAULT_MODALITY if modality is None else modality,
            avoid=avoid,
            pregnant=bool(pregnant),
        )

    @property
    def hours(self) -> float:
        return self.t * 24.0

    def at(self, t: float) -> Context:
        """The same person and treatment at another time."""
        return replace(self, t=t)

    def to_dict(self) -> dict:
        return {
            "day": self.t,
            "hours": self.hours,
            "depth_mm": self.depth_mm,
            "modality": self.modality,
            "pregnant": self.pregnant,
            "avoid": self.avoid.to_dict(),
        }
