"""The regimen's rules as data: data/regimen/*.yaml loaded and checked once.

Which need it answers: every choice the regimen makes (which step a product fills, which
pairs clash, what to stop before the next session, where phases start) must be editable by
a clinic and carry its source, like the protocol. A file with a typo (an unknown class, a
severity "avod", a missing source) is refused with :class:`RegimenRulesError` naming the
file and the field, never half-loaded: a conflict rule that silently vanished would let a
retinoid and an acid share a routine.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from recommender import config
from recommender.safety.protocol import EVIDENCE_LEVELS, KNOWN_CLASSES

RULES_DIR = config.AUTHORED_DATA_DIR / "regimen"
STEP_IDS = ("cleanse", "treat", "moisturize", "protect")
SLOTS = ("am", "pm")
CONFLICT_SEVERITIES = ("avoid", "caution")


class RegimenRulesError(ValueError):
    """A regimen rules file that cannot be used."""


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class LookFor:
    text: str
    until_day: float | None = None        # this text applies while day < until_day


@dataclass(frozen=True)
class StepDef:
    id: str
    label: str
    slots: tuple[str, ...]
    look_for: tuple[LookFor, ...]

    def look_for_at(self, day: float) -> str:
        for lf in self.look_for:
            if lf.until_day is None or day < lf.until_day:
                return lf.text
        return self.look_for[-1].text


@dataclass(frozen=True)
class KeywordRule:
    step: str
    keywords: tuple[str, ...]
    pattern: re.Pattern = field(compare=False, repr=False, default=None)


@dataclass(frozen=True)
class CueRule:
    step: str
    classes: frozenset[str]
    position_max: int


@dataclass(frozen=True)
class SlotOnly:
    classes: frozenset[str]
    slots: tuple[str, ...]
    reason: str
    position_max: int | None = None      # only when the class is this high in the list


@dataclass(frozen=True)
class StepRules:
    steps: tuple[StepDef, ...]
    fill_order: tuple[str, ...]
    name: tuple[KeywordRule, ...]
    category: tuple[KeywordRule, ...]
    cues: tuple[CueRule, ...]
    fallback: str
    slot_only: tuple[SlotOnly, ...]
    source: str
    evidence: str

    def step(self, step_id: str) -> StepDef:
        return next(s for s in self.steps if s.id == step_id)


@dataclass(frozen=True)
class IgnoreMention:
    id: str
    classes: frozenset[str]
    inci: frozenset[str]
    position_min: int
    note: str
    source: str
    evidence: str


@dataclass(frozen=True)
class ConflictRule:
    id: str
    classes_a: frozenset[str]
    classes_b: frozenset[str]
    severity: str
    message: str
    source: str
    evidence: str
    see_also: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConflictRules:
    rules: tuple[ConflictRule, ...]
    ignore: tuple[IgnoreMention, ...]


@dataclass(frozen=True)
class StopRule:
    id: str
    days: float
    label: str
    source: str
    evidence: str
    classes: frozenset[str] = frozenset()
    inci: frozenset[str] = frozenset()
    product_pattern: re.Pattern | None = None
    see_also: tuple[str, ...] = ()


@dataclass(frozen=True)
class PhaseTemplate:
    boundaries: tuple[float, ...]
    unscaled: frozenset[float]
    source: str
    evidence: str


@dataclass(frozen=True)
class PhaseRules:
    protocols: dict
    min_days_listed: int
    default_next_session_days: int


# ----------------------------------------------------------------------------- checking


class _Doc:
    def __init__(self, path: Path):
        self.path = path
        try:
            self.data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RegimenRulesError(f"{path}: cannot read: {exc}") from None
        if not isinstance(self.data, dict):
            raise RegimenRulesError(f"{path}: expected a mapping at the top")

    def fail(self, where: str, problem: str) -> RegimenRulesError:
        return RegimenRulesError(f"{self.path}, field '{where}': {problem}")

    def get(self, m: dict, key: str, where: str, kind=str, required=True, default=None):
        if key not in m:
            if required:
                raise self.fail(f"{where}.{key}".lstrip("."), "missing")
            return default
        v = m[key]
        if kind is float:
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                raise self.fail(f"{where}.{key}", f"expected a number >= 0, got {v!r}")
            return float(v)
        if kind is int:
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise self.fail(f"{where}.{key}", f"expected a whole number >= 1, got {v!r}")
            return v
        if kind is list:
            if isinstance(v, str):
                v = [v]
            if not isinstance(v, list) or not all(isinstance(x, str | int | float) for x in v):
                raise self.fail(f"{where}.{key}", f"expected a list, got {v!r}")
            return v
        if not isinstance(v, str) or not v.strip():
            raise self.fail(f"{where}.{key}", f"expected text, got {v!r}")
        return " ".join(v.split())

    def keys(self, m, where: str, allowed: tuple[str, ...]):
        if not isinstance(m, dict):
            raise self.fail(where, f"expected a mapping, got {m!r}")
        for k in m:
            if k not in allowed:
                raise self.fail(f"{where}.{k}".lstrip("."),
                                f"unknown field (known: {', '.join(allowed)})")

    def classes(self, m: dict, key: str, where: str, required=True) -> frozenset[str]:
        names = self.get(m, key, where, list, required=required, default=[])
        for n in names:
            if n not in KNOWN_CLASSES:
                raise self.fail(f"{where}.{key}", f"unknown class {n!r} (known: "
                                + ", ".join(sorted(KNOWN_CLASSES)) + ")")
        return frozenset(names)

    def evidence(self, m: dict, where: str) -> str:
        ev = self.get(m, "evidence", where)
        if ev not in EVIDENCE_LEVELS:
            raise self.fail(f"{where}.evidence", f"unknown evidence level {ev!r} (known: "
                            + ", ".join(EVIDENCE_LEVELS) + ")")
        return ev

    def step(self, value, where: str) -> str:
        if value not in STEP_IDS:
            raise self.fail(where, f"unknown step {value!r} (known: {', '.join(STEP_IDS)})")
        return value

    def rules(self, key: str = "rules") -> list:
        rules = self.data.get(key)
        if not isinstance(rules, list) or not rules:
            raise self.fail(key, "expected a non-empty list")
        return rules


def _keyword_pattern(keywords: list[str]) -> re.Pattern:
    alts = sorted((re.escape(k.casefold()) for k in keywords), key=len, reverse=True)
    return re.compile(r"(?<![0-9a-z])(?:" + "|".join(alts) + ")")


def parse_steps(path: Path) -> StepRules:
    d = _Doc(path)
    d.keys(d.data, "", ("schema", "source", "evidence", "steps", "fill_order", "name",
                        "category", "cues", "fallback", "slot_only"))
    steps = []
    for i, s in enumerate(d.rules("steps")):
        w = f"steps[{i}]"
        d.keys(s, w, ("id", "label", "slots", "look_for"))
        sid = d.step(d.get(s, "id", w), f"{w}.id")
        slots = tuple(d.get(s, "slots", w, list))
        for sl in slots:
            if sl not in SLOTS:
                raise d.fail(f"{w}.slots", f"unknown slot {sl!r} (known: am, pm)")
        lfs = []
        for j, lf in enumerate(s.get("look_for") or []):
            d.keys(lf, f"{w}.look_for[{j}]", ("text", "until_day"))
            lfs.append(LookFor(d.get(lf, "text", f"{w}.look_for[{j}]"),
                               d.get(lf, "until_day", f"{w}.look_for[{j}]", float, required=False)))
        if not lfs:
            raise d.fail(f"{w}.look_for", "at least one text is needed (the gap message)")
        steps.append(StepDef(sid, d.get(s, "label", w), slots, tuple(lfs)))
    if sorted(s.id for s in steps) != sorted(STEP_IDS):
        raise d.fail("steps", f"expected exactly the steps {', '.join(STEP_IDS)}")
    fill = tuple(d.step(x, "fill_order") for x in d.get(d.data, "fill_order", "", list))
    if sorted(fill) != sorted(STEP_IDS):
        raise d.fail("fill_order", f"must list each of {', '.join(STEP_IDS)} once")

    def kw_rules(key: str) -> tuple[KeywordRule, ...]:
        out = []
        for i, r in enumerate(d.rules(key)):
            w = f"{key}[{i}]"
            d.keys(r, w, ("step", "keywords"))
            kws = [str(k) for k in d.get(r, "keywords", w, list)]
            out.append(KeywordRule(d.step(d.get(r, "step", w), f"{w}.step"), tuple(kws),
                                   _keyword_pattern(kws)))
        return tuple(out)

    cues = []
    for i, r in enumerate(d.rules("cues")):
        w = f"cues[{i}]"
        d.keys(r, w, ("step", "classes", "position_max"))
        cues.append(CueRule(d.step(d.get(r, "step", w), f"{w}.step"), d.classes(r, "classes", w),
                            d.get(r, "position_max", w, int)))
    slot_only = []
    for i, r in enumerate(d.data.get("slot_only") or []):
        w = f"slot_only[{i}]"
        d.keys(r, w, ("classes", "slots", "reason", "position_max"))
        slots = tuple(d.get(r, "slots", w, list))
        if not slots or any(s not in SLOTS for s in slots):
            raise d.fail(f"{w}.slots", "expected am and/or pm")
        slot_only.append(SlotOnly(d.classes(r, "classes", w), slots, d.get(r, "reason", w),
                                  d.get(r, "position_max", w, int, required=False)))
    return StepRules(
        steps=tuple(sorted(steps, key=lambda s: STEP_IDS.index(s.id))), fill_order=fill,
        name=kw_rules("name"), category=kw_rules("category"), cues=tuple(cues),
        fallback=d.step(d.get(d.data, "fallback", ""), "fallback"), slot_only=tuple(slot_only),
        source=d.get(d.data, "source", ""), evidence=d.evidence(d.data, ""))


def _ignore(d: _Doc) -> tuple[IgnoreMention, ...]:
    out = []
    for i, r in enumerate(d.data.get("ignore_mentions") or []):
        w = f"ignore_mentions[{i}]"
        d.keys(r, w, ("id", "classes", "inci", "position_min", "note", "source", "evidence"))
        out.append(IgnoreMention(
            d.get(r, "id", w), d.classes(r, "classes", w),
            frozenset(" ".join(x.upper().split()) for x in d.get(r, "inci", w, list)),
            d.get(r, "position_min", w, int), d.get(r, "note", w), d.get(r, "source", w),
            d.evidence(r, w)))
    return tuple(out)


def parse_conflicts(path: Path) -> ConflictRules:
    d = _Doc(path)
    d.keys(d.data, "", ("schema", "ignore_mentions", "rules"))
    rules, seen = [], set()
    for i, r in enumerate(d.rules()):
        w = f"rules[{i}]"
        d.keys(r, w, ("id", "classes_a", "classes_b", "severity", "message", "source",
                      "evidence", "see_also"))
        rid = d.get(r, "id", w)
        if rid in seen:
            raise d.fail(f"{w}.id", f"duplicate id {rid!r}")
        seen.add(rid)
        sev = d.get(r, "severity", w)
        if sev not in CONFLICT_SEVERITIES:
            raise d.fail(f"{w}.severity", f"unknown severity {sev!r} (known: avoid, caution)")
        rules.append(ConflictRule(
            rid, d.classes(r, "classes_a", w), d.classes(r, "classes_b", w), sev,
            d.get(r, "message", w), d.get(r, "source", w), d.evidence(r, w),
            tuple(d.get(r, "see_also", w, list, required=False, default=[]))))
    return ConflictRules(tuple(rules), _ignore(d))


def parse_stop_before(path: Path) -> tuple[StopRule, ...]:
    d = _Doc(path)
    d.keys(d.data, "", ("schema", "rules"))
    out = []
    for i, r in enumerate(d.rules()):
        w = f"rules[{i}]"
        d.keys(r, w, ("id", "classes", "inci", "product_pattern", "days", "label", "source",
                      "evidence", "see_also"))
        classes = d.classes(r, "classes", w, required=False)
        inci = frozenset(" ".join(x.upper().split())
                         for x in d.get(r, "inci", w, list, required=False, default=[]))
        pat = d.get(r, "product_pattern", w, required=False)
        if not (classes or inci or pat):
            raise d.fail(w, "needs classes, inci or product_pattern")
        try:
            rx = re.compile(pat, re.IGNORECASE) if pat else None
        except re.error as exc:
            raise d.fail(f"{w}.product_pattern", f"not a regular expression: {exc}") from None
        out.append(StopRule(d.get(r, "id", w), d.get(r, "days", w, float), d.get(r, "label", w),
                            d.get(r, "source", w), d.evidence(r, w), classes, inci, rx,
                            tuple(d.get(r, "see_also", w, list, required=False, default=[]))))
    return tuple(out)


def parse_phases(path: Path) -> PhaseRules:
    d = _Doc(path)
    d.keys(d.data, "", ("schema", "protocols", "min_days_listed", "default_next_session_days"))
    templates = {}
    for name, t in (d.data.get("protocols") or {}).items():
        w = f"protocols.{name}"
        d.keys(t, w, ("boundaries", "unscaled", "source", "evidence"))
        b = d.get(t, "boundaries", w, list)
        if not b or any(isinstance(x, bool) or not isinstance(x, int | float) or x <= 0 for x in b) \
                or list(b) != sorted(set(b)):
            raise d.fail(f"{w}.boundaries", "expected increasing positive numbers of days")
        uns = d.get(t, "unscaled", w, list, required=False, default=[])
        templates[str(name)] = PhaseTemplate(tuple(float(x) for x in b),
                                             frozenset(float(x) for x in uns),
                                             d.get(t, "source", w), d.evidence(t, w))
    return PhaseRules(templates, d.get(d.data, "min_days_listed", "", int),
                      d.get(d.data, "default_next_session_days", "", int))


@dataclass(frozen=True)
class RegimenRules:
    steps: StepRules
    conflicts: ConflictRules
    stop_before: tuple[StopRule, ...]
    phases: PhaseRules


def load_rules(directory: Path | str | None = None) -> RegimenRules:
    """Read the four rules files of ``directory`` (default data/regimen)."""
    base = Path(directory) if directory is not None else RULES_DIR
    return RegimenRules(parse_steps(base / "steps.yaml"), parse_conflicts(base / "conflicts.yaml"),
                        parse_stop_before(base / "stop_before.yaml"),
                        parse_phases(base / "phases.yaml"))


@functools.lru_cache(maxsize=1)
def default_rules() -> RegimenRules:
    return load_rules()
