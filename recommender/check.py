"""Checking one ingredient list for one person: read it, then apply the safety protocol.

Answers the shopper's question "is this product safe on my skin now, and if not, from when
and why?" for one label. The result is the DESIGN.md ``skinrec check --json`` contract:
ingredients (raw, inci, position, recognized, match, classes, section, component),
unrecognized, verdict, safe_from_day, flags, protocol, plus what the parser set aside.
"""

from __future__ import annotations

from dataclasses import dataclass

from recommender import DISCLAIMER
from recommender.inci.model import ParsedList
from recommender.knowledge.reader import Reader, default_reader
from recommender.safety import Assessment, Context, Protocol, assess, default_protocol


@dataclass
class CheckResult:
    parsed: ParsedList
    assessment: Assessment  # also for an unreadable list: the protocol's unreadable-list caution

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
        if not p.found:
            out["error"] = "no ingredient list found"
        out.setdefault("disclaimer", DISCLAIMER)
        return out


def make_context(*, hours=None, day=None, depth=None, modality=None, avoid=None,
                 pregnant=False, reader: Reader | None = None) -> Context:
    """A Context whose avoid-list is resolved through the canonicaliser and class vocabulary."""
    reader = reader or default_reader()
    return Context.make(
        hours=hours, day=day, depth=depth, modality=modality, avoid=avoid, pregnant=pregnant,
        canonicalise=reader.canonicalise, class_for_query=reader.rules.classes_for_query,
    )


def check(text: object, context: Context | None = None, protocol: Protocol | None = None,
          *, reader: Reader | None = None, name: str | None = None,
          category: str | None = None) -> CheckResult:
    reader = reader or default_reader()
    parsed = reader.read(text)
    result = assess(parsed, context or Context(), protocol or default_protocol(),
                    name=name, category=category)
    return CheckResult(parsed, result)
