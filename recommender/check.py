"""Checking one ingredient list for one person: read it, then apply the safety protocol.

Answers the shopper's question "is this product safe on my skin now, and if not, from when
and why?" for one label. The result is the DESIGN.md ``skinrec check --json`` contract:
ingredients (raw, inci, position, recognized, match, classes, section, component),
unrecognized, verdict, safe_from_day, flags, protocol, plus what the parser set aside, and
what the learned models say about fit (concerns, skin types, gentleness) and absorption
("xN vs intact skin" per active); safety never depends on those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recommender import DISCLAIMER
from recommender.inci.model import ParsedList
from recommender.safety import Assessment, Context, Protocol, assess, default_protocol

if TYPE_CHECKING:
    from recommender.knowledge.reader import Reader


def _default_reader() -> Reader:
    # imported when first needed: the reader pulls in scikit-learn (~80 MB, ~3 s), which a
    # batch run's parent process (it only reads and writes) never needs
    from recommender.knowledge.reader import default_reader

    return default_reader()


@dataclass
class CheckResult:
    parsed: ParsedList
    assessment: Assessment  # also for an unreadable list: the protocol's unreadable-list caution
    fit: dict | None = None  # what the learned models say (concerns, skin types, absorption)

    @property
    def found(self) -> bool:
        return self.parsed.found

    def to_dict(self) -> dict:
        p = self.parsed
        out = {
            "status": p.status,
            "ingredients": [m.to_dict() for m in p.ingredients],
            "unrecognized": p.unrecognized,
            "components": p.components,
            "set_aside": p.problems,
        }
        out.update(self.assessment.to_dict())
        if self.fit is not None:
            out.update(self.fit)
        if not p.found:
            out["error"] = "no ingredient list found"
        out.setdefault("disclaimer", DISCLAIMER)
        return out


def make_context(*, hours=None, day=None, depth=None, modality=None, avoid=None,
                 pregnant=False, reader: Reader | None = None) -> Context:
    """A Context whose avoid-list is resolved through the canonicaliser and class vocabulary.

    Without an avoid-list the knowledge base is not loaded (a batch run's parent process,
    which only reads and writes while its workers score, stays small)."""
    if reader is None and not avoid:
        return Context.make(hours=hours, day=day, depth=depth, modality=modality, avoid=None,
                            pregnant=pregnant)
    reader = reader or _default_reader()
    return Context.make(
        hours=hours, day=day, depth=depth, modality=modality, avoid=avoid, pregnant=pregnant,
        canonicalise=reader.canonicalise, class_for_query=reader.rules.classes_for_query,
    )


def check(text: object, context: Context | None = None, protocol: Protocol | None = None,
          *, reader: Reader | None = None, name: str | None = None,
          category: str | None = None, with_models: bool = True) -> CheckResult:
    reader = reader or _default_reader()
    parsed = reader.read(text)
    ctx = context or Context()
    result = assess(parsed, ctx, protocol or default_protocol(), name=name, category=category)
    return CheckResult(parsed, result, learned_fit(text, parsed, ctx, category) if with_models else None)


def learned_fit(text: object, parsed: ParsedList, ctx: Context, category: str | None) -> dict:
    """Concern probabilities, skin-type suitability, gentleness and absorption for one list,
    through the same door score_frame uses (``recommender.scoring.learned``): NaN becomes
    None and a model that is not available says so in ``model_versions``."""
    import math

    from recommender.scoring.learned import CONCERNS, SKIN_TYPES, default_models

    models = default_models()
    cols = models.predict([str(text or "")], [category or ""], [parsed],
                          t_hours=ctx.hours, depth_mm=ctx.depth_mm)

    def val(name):
        v = float(cols[name][0])
        return None if math.isnan(v) else round(v, 4)

    fit = {
        "concerns": {c: val(f"concern_{c}") for c in CONCERNS},
        "skin_types": {s: val(f"skin_{s}") for s in SKIN_TYPES},
        "gentleness": val("gentleness"),
        "model_versions": models.versions,
    }
    absorption = None
    if models.has_absorption and parsed.found:
        from recommender.learn.absorption import product_absorption

        a = product_absorption(parsed, ctx.hours, depth_mm=ctx.depth_mm)
        absorption = {k: a.get(k) for k in ("t_hours", "absorption_index", "x_vs_intact",
                                             "actives", "unknown", "curve", "coverage")}
    fit["absorption"] = absorption
    return fit
