"""Phases of the plan: half-open intervals of days after treatment, from the protocol.

Which need it answers: aftercare sheets speak in phases ("day 0", "days 1-2", "days 3-6",
"week 2"), and a clinic that loads its own protocol ("retinoids from day 5") expects a
phase to start where its windows end. A protocol object with a ``phases`` attribute (a
list of day boundaries; the protocol schema has no such field yet) uses it, scaled by the
factor. For a protocol named in data/regimen/phases.yaml
(the default: REPORT.md section 5's template 0, 1, 3, 7, 14) the boundaries come from
there, scaled by the protocol's depth x modality factor like its windows; for any other
protocol there is one boundary at every distinct end of its rules' windows (after the
factor). The last phase runs until the next session.
"""

from __future__ import annotations

import math

from recommender.regimen.rules import PhaseRules
from recommender.safety import Protocol


def _fmt(x: float) -> str:
    return f"{round(x, 4):g}"


def window_ends(protocol: Protocol, factor: float) -> list[float]:
    """Distinct finite window ends of every rule, after the factor (unscaled rules as is)."""
    ends = set()
    for r in protocol.rules:
        for s in r.stages:
            if math.isinf(s.until):
                continue
            ends.add(s.until * (factor if r.scaled else 1.0))
    return sorted(ends)


def boundaries(protocol: Protocol, factor: float, rules: PhaseRules) -> tuple[list[float], str, str]:
    """(boundaries > 0, source, evidence)."""
    own = getattr(protocol, "phases", None)      # a future protocol schema field, if added
    if own:
        return (sorted({float(x) * factor for x in own if float(x) > 0}),
                f"phases of protocol {protocol.name} {protocol.version}", "clinic")
    t = rules.protocols.get(protocol.name)
    if t is not None:
        b = sorted({x if x in t.unscaled else x * factor for x in t.boundaries})
        return b, t.source, t.evidence
    return (window_ends(protocol, factor),
            f"window ends of protocol {protocol.name} {protocol.version}", "none")


def label(start: float, end: float | None) -> str:
    if end is None:
        return f"Day {_fmt(start)} until the next session"
    if start == 0 and end == 1:
        return "Day 0 (first 24 hours)"
    last = end - 1 if float(end).is_integer() and float(start).is_integer() else None
    if last is not None and last == start:
        return f"Day {_fmt(start)}"
    if last is not None:
        return f"Days {_fmt(start)}-{_fmt(last)}"
    return f"Days {_fmt(start)} to {_fmt(end)}"


def make_phases(protocol: Protocol, factor: float, rules: PhaseRules,
                next_session_day: int) -> list[dict]:
    """[{"id", "label", "from_day", "until_day"}], covering [0, next_session_day)."""
    b, source, evidence = boundaries(protocol, factor, rules)
    cuts = [0.0] + [x for x in b if 0 < x < next_session_day]
    phases = []
    for i, start in enumerate(cuts):
        end = cuts[i + 1] if i + 1 < len(cuts) else None
        phases.append({"id": f"p{i}", "label": label(start, end), "from_day": start,
                       "until_day": end if end is not None else float(next_session_day),
                       "source": source, "evidence": evidence})
    return phases


def phase_of(day: float, phases: list[dict]) -> dict:
    for p in phases:
        if p["from_day"] <= day < p["until_day"]:
            return p
    return phases[-1]
