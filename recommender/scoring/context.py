"""Who is scoring for whom: the safety context plus what the person wants (concerns, skin type).

Answers "I was needled yesterday at 1.0 mm, I have dark spots and dry skin": the safety part
(time, depth, modality, avoid-list, pregnancy) is the safety engine's
:class:`~recommender.safety.Context`; concerns and skin types only steer the score, never a
verdict. A :class:`ScoreContext` is small and picklable: it is shipped once to each worker
process or Dask worker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from recommender.safety import Context, Protocol, default_protocol, split_avoid_items
from recommender.scoring.formula import DEFAULT_WEIGHTS, Weights
from recommender.scoring.learned import CONCERNS, SKIN_TYPES

# Words people type -> concern ids (DESIGN.md's nine ids are accepted as they are).
CONCERN_ALIASES = {
    "blemishes": "acne", "breakouts": "acne", "acne_blemishes": "acne",
    "dark_spot": "dark_spots", "hyperpigmentation": "dark_spots", "pigmentation": "dark_spots",
    "spots": "dark_spots",
    "fine_lines": "fine_lines_wrinkles", "wrinkles": "fine_lines_wrinkles",
    "lines": "fine_lines_wrinkles", "anti_aging": "fine_lines_wrinkles",
    "antiaging": "fine_lines_wrinkles", "aging": "fine_lines_wrinkles",
    "firming": "firmness", "loss_of_firmness": "firmness", "sagging": "firmness",
    "dullness": "dullness_texture", "texture": "dullness_texture", "uneven_texture": "dullness_texture",
    "pore": "pores", "dry": "dryness", "dehydration": "dryness", "redness_rosacea": "redness",
    "rosacea": "redness", "dark_circle": "dark_circles", "under_eye": "dark_circles",
}
SKIN_ALIASES = {"combo": "combination", "mixed": "combination", "sensitive_skin": "sensitive"}


def _key(word: str) -> str:
    return "_".join(re.sub(r"[^0-9a-z]+", " ", word.casefold().replace("&", " ")).split())


def _split(items: str | Iterable[str] | None) -> list[str]:
    """"a, b" or ["a", "b,c"] -> ["a", "b", "c"]: the avoid-list's splitting, one rule."""
    return split_avoid_items(items)


def parse_concerns(items: str | Iterable[str] | None) -> tuple[str, ...]:
    """"dark spots, Dryness" -> ("dark_spots", "dryness"); unknown words raise ValueError."""
    out: list[str] = []
    for word in _split(items):
        k = _key(word)
        cid = k if k in CONCERNS else CONCERN_ALIASES.get(k)
        if cid is None:
            raise ValueError(f"unknown concern {word!r}; known: {', '.join(CONCERNS)}")
        if cid not in out:
            out.append(cid)
    return tuple(out)


def parse_skin_types(items: str | Iterable[str] | None) -> tuple[str, ...]:
    """"dry, Combo" -> ("dry", "combination"); unknown words raise ValueError."""
    out: list[str] = []
    for word in _split(items):
        k = _key(word)
        k = k[:-5] if k.endswith("_skin") else k
        sid = k if k in SKIN_TYPES else SKIN_ALIASES.get(k)
        if sid is None:
            raise ValueError(f"unknown skin type {word!r}; known: {', '.join(SKIN_TYPES)}")
        if sid not in out:
            out.append(sid)
    return tuple(out)


@dataclass(frozen=True)
class ScoreContext:
    """Everything score_frame needs besides the products."""

    safety: Context = field(default_factory=Context)
    protocol: Protocol | None = None           # None: the default protocol
    concerns: tuple[str, ...] = ()
    skin_types: tuple[str, ...] = ()
    weights: Weights = DEFAULT_WEIGHTS
    use_models: bool = True                    # False: learned columns NaN ("unavailable")
    flag_detail: str = "full"                  # flags column: "full" or "compact"

    def __post_init__(self):
        object.__setattr__(self, "concerns", parse_concerns(self.concerns))
        object.__setattr__(self, "skin_types", parse_skin_types(self.skin_types))
        if self.flag_detail not in ("full", "compact"):
            raise ValueError(f"flag detail must be 'full' or 'compact', got {self.flag_detail!r}")

    @property
    def active_protocol(self) -> Protocol:
        return self.protocol if self.protocol is not None else default_protocol()

    @classmethod
    def coerce(cls, context) -> ScoreContext:
        """A ScoreContext from a ScoreContext, a safety Context or None."""
        if context is None:
            return cls()
        if isinstance(context, ScoreContext):
            return context
        if isinstance(context, Context):
            return cls(safety=context)
        raise TypeError(f"expected a ScoreContext or a safety Context, got {type(context).__name__}")

    def to_dict(self) -> dict:
        p = self.active_protocol
        return {
            **self.safety.to_dict(),
            "concerns": list(self.concerns),
            "skin_types": list(self.skin_types),
            "protocol": p.summary(),
        }


def make_score_context(*, hours=None, day=None, depth=None, modality=None, avoid=None,
                       pregnant=False, concerns=None, skin_type=None,
                       protocol: Protocol | None = None, weights: Weights = DEFAULT_WEIGHTS,
                       use_models: bool = True, flag_detail: str = "full") -> ScoreContext:
    """From CLI/API style arguments; the avoid-list is resolved through the canonicaliser.

    Raises ValueError for a bad time, depth, modality, concern or skin type.
    """
    from recommender.check import make_context

    safety = make_context(hours=hours, day=day, depth=depth, modality=modality, avoid=avoid,
                          pregnant=pregnant)
    proto = protocol if protocol is not None else default_protocol()
    proto.check_modality(safety.modality)
    return ScoreContext(safety=safety, protocol=protocol, concerns=parse_concerns(concerns),
                        skin_types=parse_skin_types(skin_type), weights=weights,
                        use_models=use_models, flag_detail=flag_detail)
