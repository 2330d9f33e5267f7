"""Windows and verdicts: one product, one person, one time after one treatment.

Follows DESIGN.md's "Exact semantics" to the letter:

- t is in days after the end of the treatment; a window "until N" is open while t < N and
  closed at t >= N (half-open).
- f = depth factor x modality factor multiplies every window end, both ends of two-stage rules
  included, except rules marked ``scaled: false`` (the first 24 hours: a product-level window
  "until 1" that counts toward safe_from_day). No rounding: days are floats.
- Verdict at t: ``avoid`` if any avoid window is open, else ``caution`` if any caution window
  is open, else ``suitable``. Every window starts at 0, so the verdict at any t follows from two
  numbers, the latest avoid end and the latest caution end: :meth:`Assessment.verdict_at` is
  O(1) and a timeline costs nothing.
- ``safe_from_day`` = the latest end of any avoid window; ``None`` when a rule that never ends
  applies (the person's avoid-list, retinoids in pregnancy).
- Kits and sets (several components in one field): one result, strictest verdict and latest
  safe_from_day over the components; each ingredient flag carries its ``component`` and
  ``Assessment.component_verdicts`` gives each component's own verdict.
- May-contain entries count for safety with the same severity as declared ones (unless the
  protocol says ``may_contain: {counts_for_safety: false}``).

Which flags are listed: every rule that applies to the product, once per ingredient mention,
whether its window is still open at t or already closed. Each flag carries ``open`` (is it
open at t), its ``stages`` after the factor, and ``severity``/``until_day`` of the stage that
is current at t (the first stage still open; when all are closed, the last one, with an
``until_day`` in the past). safe_from_day and the timeline need every window, so a flag never
disappears because its window closed; callers that show "why not now" filter on ``open``.
An exemption that removed a flag (citric acid after position 10 is a pH adjuster) is listed
in ``notes`` so the absence of a flag is explained too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from recommender.inci.model import Mention, ParsedList
from recommender.safety.context import Context, fold_name
from recommender.safety.protocol import (
    NEVER,
    SEVERITY_RANK,
    Protocol,
    Rule,
    default_protocol,
)

VERDICTS = ("suitable", "caution", "avoid")       # mildest first


def _fmt_day(x: float) -> str:
    if math.isinf(x):
        return "never"
    return f"{round(x, 4):g}"


def _fmt_mm(x: float) -> str:
    return f"{x:.1f}" if round(x, 1) == x else f"{x:g}"


def _window_text(stages: tuple[tuple[str, float], ...]) -> str:
    parts = []
    for i, (sev, end) in enumerate(stages):
        text = f"{sev} at any time" if math.isinf(end) else f"{sev} until day {_fmt_day(end)}"
        parts.append(text if i == 0 else f"then {text}")
    return ", ".join(parts)


@dataclass(slots=True)
class Flag:
    """Why a product is (or was) not suitable: one rule applied to one mention or the product."""

    scope: str                                   # "ingredient" | "product"
    rule: Rule
    stages: tuple[tuple[str, float], ...]        # (severity, end in days after the factor)
    severity: str                                # severity of the stage current at t
    until_day: float                             # end of that stage (math.inf: never)
    open: bool                                   # is any stage open at t
    ingredient: str | None = None                # as printed
    inci: str | None = None
    position: int | None = None
    component: int | None = None
    section: str | None = None
    klass: str | None = None
    detail: str = ""                             # what matched ("'vitamin b3'", "name says ...")
    where: str = ""                              # "position 4", "may contain, position 12"
    suffix: str = ""                             # " after 1.0 mm needling"

    @property
    def never(self) -> bool:
        return math.isinf(self.stages[-1][1]) or math.isinf(self.until_day)

    @property
    def source(self) -> str:
        return self.rule.source

    @property
    def evidence(self) -> str:
        return self.rule.evidence

    @property
    def avoid_end(self) -> float:
        return max((end for sev, end in self.stages if sev == "avoid"), default=0.0)

    @property
    def reason(self) -> str:
        rule = self.rule
        window = _window_text(self.stages)
        suffix = "" if self.never or not rule.scaled else self.suffix
        label = rule.label or (f"in class {self.klass}" if self.klass else f"rule {rule.id}")
        detail = f" ({self.detail})" if self.detail else ""
        if self.scope == "product":
            text = f"{label}{detail}: {window}{suffix}"
        else:
            text = f"{self.ingredient} ({self.where}) is {label}{detail}: {window}{suffix}"
        if rule.note:
            text += f"; {rule.note}"
        return text

    def reason_parts(self, reason: str | None = None) -> tuple[str, str] | None:
        """(head, tail) with ``reason == head + suffix + tail`` when the reason names the
        treatment (a scaled window that ends), else None: the same reason after another
        depth of the same factor is ``head + other suffix + tail`` (recommender.scoring.kept
        re-words kept reasons so). ``reason``: :attr:`reason`, when already at hand."""
        if self.never or not self.rule.scaled or not self.suffix:
            return None
        if reason is None:
            reason = self.reason
        tail = f"; {self.rule.note}" if self.rule.note else ""
        cut = len(reason) - len(tail) - len(self.suffix)
        if cut < 0 or reason[cut:] != self.suffix + tail:     # not the shape built above
            raise ValueError(f"the reason of rule {self.rule.id} does not end with its suffix")
        return reason[:cut], tail

    def to_dict(self) -> dict:
        return {
            "scope": self.scope,
            "ingredient": self.ingredient,
            "inci": self.inci,
            "position": self.position,
            "component": self.component,
            "section": self.section,
            "class": self.klass,
            "rule": self.rule.id,
            "severity": self.severity,
            "until_day": None if math.isinf(self.until_day) else self.until_day,
            "open": self.open,
            "never": self.never,
            "stages": [
                {"severity": sev, "until_day": None if math.isinf(end) else end}
                for sev, end in self.stages
            ],
            "reason": self.reason,
            "source": self.rule.source,
            "evidence": self.rule.evidence,
        }


@dataclass(slots=True)
class Note:
    """An exemption that removed a flag (so its absence is explained)."""

    rule: str
    exemption: str
    ingredient: str
    inci: str | None
    position: int
    component: int
    text: str
    source: str
    evidence: str

    def to_dict(self) -> dict:
        return {
            "rule": self.rule, "exemption": self.exemption, "ingredient": self.ingredient,
            "inci": self.inci, "position": self.position, "component": self.component,
            "reason": self.text, "source": self.source, "evidence": self.evidence,
        }


def _verdict(t: float, avoid_end: float, caution_end: float) -> str:
    if t < avoid_end:
        return "avoid"
    if t < caution_end:
        return "caution"
    return "suitable"


@dataclass(slots=True)
class Assessment:
    """The result for one product. ``to_dict()`` follows DESIGN.md's `check --json` contract."""

    verdict: str
    safe_from_day: float | None
    flags: list[Flag]
    notes: list[Note]
    context: Context
    protocol: Protocol
    factor: float
    avoid_end: float                  # latest avoid end (math.inf: never); 0 when none
    caution_end: float                # latest caution end
    component_verdicts: list[dict] = field(default_factory=list)
    parsed: ParsedList | None = None

    @property
    def never_safe(self) -> bool:
        return math.isinf(self.avoid_end)

    def verdict_at(self, t: float) -> str:
        """The verdict at another time after the same treatment (O(1))."""
        return _verdict(t, self.avoid_end, self.caution_end)

    def open_flags(self) -> list[Flag]:
        return [f for f in self.flags if f.open]

    def timeline(self) -> list[dict]:
        """Where the verdict changes: [{"from_day": 0.0, "verdict": "avoid"}, {"from_day": 7.0, ...}]."""
        points = sorted({0.0, *(end for f in self.flags for _, end in f.stages
                                if not math.isinf(end))})
        out: list[dict] = []
        for p in points:
            v = self.verdict_at(p)
            if not out or out[-1]["verdict"] != v:
                out.append({"from_day": p, "verdict": v})
        return out

    def reasons(self, *, open_only: bool = True) -> list[str]:
        return [f.reason for f in self.flags if f.open or not open_only]

    def to_dict(self, *, include_parsed: bool = False) -> dict:
        out = {
            "verdict": self.verdict,
            "safe_from_day": self.safe_from_day,
            "never_safe": self.never_safe,
            "flags": [f.to_dict() for f in self.flags],
            "notes": [n.to_dict() for n in self.notes],
            "component_verdicts": self.component_verdicts,
            "timeline": self.timeline(),
            "protocol": self.protocol.summary(),
            "disclaimer": self.protocol.disclaimer,
            "context": {**self.context.to_dict(), "factor": self.factor},
        }
        if include_parsed and self.parsed is not None:
            out = {
                "ingredients": [m.to_dict() for m in self.parsed.ingredients],
                "unrecognized": self.parsed.unrecognized,
                **out,
            }
        return out


# ---------------------------------------------------------------------------------------
# Rule index per protocol (built once, kept on the protocol object).


@dataclass(slots=True)
class _Index:
    by_class: dict[str, list[int]]
    by_inci: dict[str, list[int]]
    product: list[int]
    avoid_list: list[int]
    plans: dict = field(default_factory=dict)      # mention key -> candidate rule indices
    scaled: dict = field(default_factory=dict)     # factor -> stages per rule index
    factors: dict = field(default_factory=dict)    # (depth, modality) -> (factor, reason suffix)

    def plan(self, m: Mention, rules: tuple[Rule, ...]) -> tuple[int, ...]:
        """Rule indices that may apply to a mention, from its classes and identity (cached).

        Conditions that depend on the person or the position are checked by the caller.
        """
        classes = m.classes if type(m.classes) is tuple else tuple(m.classes)
        key = (classes, m.inci, None if m.inci else m.name)
        hit = self.plans.get(key)
        if hit is not None:
            return hit
        cand: set[int] = set()
        for c in m.classes:
            cand.update(self.by_class.get(c, ()))
        idents = _identities(m)
        for ident in idents:
            cand.update(self.by_inci.get(ident, ()))
        out = tuple(i for i in sorted(cand)
                    if not (rules[i].except_inci and idents & rules[i].except_inci))
        if len(self.plans) > 200_000:
            self.plans.clear()
        self.plans[key] = out
        return out

    def stages(self, rules: tuple[Rule, ...], f: float) -> list[tuple[tuple[str, float], ...]]:
        hit = self.scaled.get(f)
        if hit is None:
            hit = [_scaled(rule, f) for rule in rules]
            if len(self.scaled) > 1000:
                self.scaled.clear()
            self.scaled[f] = hit
        return hit


def _index(protocol: Protocol) -> _Index:
    idx = protocol._index.get("engine")
    if idx is not None:
        return idx
    by_class: dict[str, list[int]] = {}
    by_inci: dict[str, list[int]] = {}
    product: list[int] = []
    avoid_list: list[int] = []
    for i, rule in enumerate(protocol.rules):
        if rule.scope == "product":
            product.append(i)
        elif rule.scope == "avoid_list":
            avoid_list.append(i)
        else:
            for c in rule.classes:
                by_class.setdefault(c, []).append(i)
            for name in rule.inci:
                by_inci.setdefault(name, []).append(i)
    idx = _Index(by_class, by_inci, product, avoid_list)
    protocol._index["engine"] = idx
    return idx


def _scaled(rule: Rule, f: float) -> tuple[tuple[str, float], ...]:
    k = f if rule.scaled else 1.0
    return tuple((s.severity, NEVER if math.isinf(s.until) else s.until * k) for s in rule.stages)


def _current(stages: tuple[tuple[str, float], ...], t: float) -> tuple[str, float, bool]:
    for sev, end in stages:
        if t < end:
            return sev, end, True
    sev, end = stages[-1]
    return sev, end, False


def _identities(m: Mention) -> set[str]:
    ids = {" ".join(m.name.upper().split())} if m.name else set()
    if m.inci:
        ids.add(" ".join(m.inci.upper().split()))
    return ids


def _how_known(m: Mention) -> str:
    """Say so when the class rests on a fuzzy reading or on the learned name model."""
    if m.match == "fuzzy":
        return f"read as {m.inci}, fuzzy match {m.match_score:g}"
    if m.match is None and m.class_confidence is not None:
        if m.class_confidence >= 1.0:       # Mention.class_confidence: 1.0 marks a curated rule
            return "unrecognised name; class from what the printed name says (a curated rule)"
        return f"unrecognised name; class from the name-pattern model, p={m.class_confidence:.2f}"
    return ""


def _where(m: Mention, components: list[str | None]) -> str:
    text = f"may contain, position {m.position}" if m.section == "may_contain" \
        else f"position {m.position}"
    if len(components) > 1 or m.component:
        heading = components[m.component] if m.component < len(components) else None
        text += f" in {heading!r}" if heading else f" of component {m.component + 1}"
    return text


def _avoid_match(m: Mention, ctx: Context) -> tuple[str | None, str] | None:
    """(class, the item typed) when the mention is on the person's avoid-list."""
    avoid = ctx.avoid
    for c in m.classes:
        if c in avoid.classes:
            return c, avoid.classes[c]
    for ident in _identities(m):
        if ident in avoid.inci:
            return None, avoid.inci[ident]
    if avoid.names:
        for text in (m.raw, m.name, m.inci or "", *m.alternatives):
            key = fold_name(text)
            if key in avoid.names:
                return None, avoid.names[key]
    return None


def _factor_suffix(proto: Protocol, idx: _Index, ctx: Context) -> tuple[float, str]:
    """(the protocol's factor for the context's depth and modality, the text flags add:
    " after 1.0 mm microneedling"), kept per (depth, modality)."""
    fs = idx.factors.get((ctx.depth_mm, ctx.modality))
    if fs is None:
        fs = (proto.factor(ctx.depth_mm, ctx.modality),
              f" after {_fmt_mm(ctx.depth_mm)} mm {proto.modality_label(ctx.modality)}")
        if len(idx.factors) > 1000:
            idx.factors.clear()
        idx.factors[(ctx.depth_mm, ctx.modality)] = fs
    return fs


def assess(
    parsed: ParsedList,
    context: Context | None = None,
    protocol: Protocol | None = None,
    *,
    name: str | None = None,
    category: str | None = None,
) -> Assessment:
    """Assess one parsed ingredient field for one context under one protocol.

    ``name`` and ``category`` (of the product) feed the product-level peel rule.
    Raises ``ValueError`` for a modality the protocol does not define.
    """
    ctx = context if context is not None else Context()
    proto = protocol if protocol is not None else default_protocol()
    t = ctx.t
    idx = _index(proto)
    rules = proto.rules
    f, suffix = _factor_suffix(proto, idx, ctx)
    flags: list[Flag] = []
    notes: list[Note] = []

    def condition_ok(rule: Rule) -> bool:
        return rule.when is None or (rule.when == "pregnant" and ctx.pregnant)

    # Product-level rules.
    for i in idx.product:
        rule = rules[i]
        if not condition_ok(rule):
            continue
        detail = ""
        if rule.product == "peel":
            hit = None
            for what, text in (("name", name), ("category", category)):
                if text:
                    mo = rule.pattern.search(text)
                    if mo:
                        hit = f"{what} says {mo.group(0)!r}"
                        break
            if hit is None:
                continue
            detail = hit
        elif rule.product == "modality":
            if ctx.modality not in rule.modalities:
                continue
        elif rule.product == "unreadable":
            if parsed.found:
                continue
            detail = f"status: {parsed.status}"
        stages = idx.stages(rules, f)[i]
        sev, end, is_open = _current(stages, t)
        flags.append(Flag("product", rule, stages, sev, end, is_open, detail=detail,
                          suffix=suffix))

    # Ingredient rules.
    components = parsed.components or [None]
    count_may = proto.may_contain_counts
    scaled = idx.stages(rules, f)
    avoid_rules = [i for i in idx.avoid_list if condition_ok(rules[i])] if ctx.avoid else ()
    by_inci = idx.by_inci
    plans = idx.plans
    for m in parsed.ingredients:
        if m.section == "may_contain" and not count_may:
            continue
        if not m.classes and m.inci is not None and m.inci not in by_inci:
            cand = ()                    # fast path: most mentions (water, glycerin ...)
        else:
            cand = plans.get((m.classes, m.inci, None if m.inci else m.name))
            if cand is None:
                cand = idx.plan(m, rules)
        where = None
        for i in cand:
            rule = rules[i]
            if rule.when is not None and not condition_ok(rule):
                continue
            if rule.position_min is not None and m.position < rule.position_min:
                continue
            if rule.position_max is not None and m.position > rule.position_max:
                continue
            if where is None:
                where = _where(m, components)
            if rule.exemptions:
                idents = _identities(m)
                exempt = next((ex for ex in rule.exemptions if idents & ex.inci and (
                    ex.position_min is None or m.position >= ex.position_min)), None)
                if exempt is not None:
                    text = f"{m.raw} ({where}) is not flagged by rule {rule.id}"
                    if exempt.note:
                        text += f": {exempt.note}"
                    notes.append(Note(rule.id, exempt.id, m.raw, m.inci, m.position,
                                      m.component, text, exempt.source, exempt.evidence))
                    continue
            klass = next((c for c in rule.classes if c in m.classes), None)
            if klass is None:
                klass = rule.flag_class or (rule.classes[0] if rule.classes else None)
            stages = scaled[i]
            sev, end, is_open = _current(stages, t)
            flags.append(Flag("ingredient", rule, stages, sev, end, is_open, m.raw, m.inci,
                              m.position, m.component, m.section, klass, where=where,
                              suffix=suffix, detail=_how_known(m)))
        if avoid_rules:
            hit = _avoid_match(m, ctx)
            if hit is not None:
                klass, item = hit
                if where is None:
                    where = _where(m, components)
                for i in avoid_rules:
                    stages = scaled[i]
                    sev, end, is_open = _current(stages, t)
                    flags.append(Flag("ingredient", rules[i], stages, sev, end, is_open, m.raw,
                                      m.inci, m.position, m.component, m.section, klass,
                                      detail=repr(item), where=where, suffix=suffix))

    avoid_end, caution_end = _ends(flags)
    comp_results = _component_verdicts(flags, components, t, avoid_end, caution_end)
    return Assessment(
        verdict=_verdict(t, avoid_end, caution_end),
        safe_from_day=None if math.isinf(avoid_end) else avoid_end,
        flags=flags,
        notes=notes,
        context=ctx,
        protocol=proto,
        factor=f,
        avoid_end=avoid_end,
        caution_end=caution_end,
        component_verdicts=comp_results,
        parsed=parsed,
    )


def _ends(flags: list[Flag]) -> tuple[float, float]:
    avoid_end = caution_end = 0.0
    for fl in flags:
        for sev, end in fl.stages:
            if sev == "avoid":
                if end > avoid_end:
                    avoid_end = end
            elif end > caution_end:
                caution_end = end
    return avoid_end, caution_end


def _component_verdicts(flags: list[Flag], components: list, t: float, avoid_end: float,
                        caution_end: float) -> list[dict]:
    if len(components) == 1:
        return [{"component": 0, "heading": components[0],
                 "verdict": _verdict(t, avoid_end, caution_end),
                 "safe_from_day": None if math.isinf(avoid_end) else avoid_end}]
    out = []
    product_flags = [fl for fl in flags if fl.scope == "product"]
    for ci, heading in enumerate(components):
        a, c = _ends(product_flags + [fl for fl in flags if fl.component == ci])
        out.append({"component": ci, "heading": heading, "verdict": _verdict(t, a, c),
                    "safe_from_day": None if math.isinf(a) else a})
    return out


def treatment_suffix(context: Context, protocol: Protocol | None = None) -> str:
    """The text a flag's reason ends its window with for this context's treatment
    (" after 1.0 mm microneedling"; :attr:`Flag.suffix`): what a kept reason for another
    depth of the same factor changes (recommender.scoring.kept)."""
    proto = protocol if protocol is not None else default_protocol()
    return _factor_suffix(proto, _index(proto), context)[1]


def retime(a: Assessment, context: Context) -> Assessment:
    """``a`` at another time: what ``assess`` gives for the same product, protocol and
    treatment with ``context`` (which must differ from ``a.context`` in ``t`` only, or also
    in ``depth_mm`` when the protocol's factor for the new depth is the same: the flags then
    name the new depth), without matching any rule again. Only the current stage of each
    flag, ``open`` and the verdicts depend on t, and only the flags' " after D mm" text on a
    depth of the same factor (answers the web app's many questions about the same products
    at different days and depths; tests/test_safety_real.py checks it against ``assess`` on
    real lists). Raises ValueError for a depth of another factor."""
    t = context.t
    suffix = None
    if context.depth_mm != a.context.depth_mm:
        f_new, suffix = _factor_suffix(a.protocol, _index(a.protocol), context)
        if f_new != a.factor:
            raise ValueError(f"retime: depth {context.depth_mm} mm has factor {f_new}, the "
                             f"assessment {a.factor}; assess again")
    flags = []
    for f in a.flags:
        sev, end, is_open = _current(f.stages, t)
        sx = f.suffix if suffix is None else suffix
        if sev == f.severity and end == f.until_day and is_open == f.open and sx == f.suffix:
            flags.append(f)
        else:
            flags.append(Flag(f.scope, f.rule, f.stages, sev, end, is_open, f.ingredient,
                              f.inci, f.position, f.component, f.section, f.klass, f.detail,
                              f.where, sx))
    components = (a.parsed.components if a.parsed is not None else None) or [None]
    return Assessment(
        verdict=_verdict(t, a.avoid_end, a.caution_end),
        safe_from_day=a.safe_from_day,
        flags=flags,
        notes=a.notes,
        context=context,
        protocol=a.protocol,
        factor=a.factor,
        avoid_end=a.avoid_end,
        caution_end=a.caution_end,
        component_verdicts=_component_verdicts(flags, components, t, a.avoid_end,
                                               a.caution_end),
        parsed=a.parsed,
    )


def rescale(a: Assessment, context: Context) -> Assessment:
    """``a`` after a treatment of another depth (of any factor) and at another time: what
    ``assess`` gives for the same product, protocol, modality, pregnancy and avoid-list
    with ``context``, without matching any rule again. Which rules apply to a product does
    not depend on the depth; the factor only scales every window's ends (``_scaled``), and
    the depth names itself in the flags' text. A depth of the same factor is :func:`retime`.
    Raises ValueError when ``context`` differs from ``a.context`` in modality or pregnancy
    (the caller vouches for the avoid-list: the prepared catalog reuses an assessment made
    without one for a product none of its items is in)."""
    ctx0 = a.context
    if context.modality != ctx0.modality or context.pregnant != ctx0.pregnant:
        raise ValueError("rescale: another modality or pregnancy changes the rules; "
                         "assess again")
    f_new, suffix = _factor_suffix(a.protocol, _index(a.protocol), context)
    if f_new == a.factor:
        return retime(a, context)
    t = context.t
    flags = []
    for f in a.flags:
        stages = _scaled(f.rule, f_new)
        sev, end, is_open = _current(stages, t)
        flags.append(Flag(f.scope, f.rule, stages, sev, end, is_open, f.ingredient, f.inci,
                          f.position, f.component, f.section, f.klass, f.detail, f.where,
                          suffix))
    avoid_end, caution_end = _ends(flags)
    components = (a.parsed.components if a.parsed is not None else None) or [None]
    return Assessment(
        verdict=_verdict(t, avoid_end, caution_end),
        safe_from_day=None if math.isinf(avoid_end) else avoid_end,
        flags=flags,
        notes=a.notes,
        context=context,
        protocol=a.protocol,
        factor=f_new,
        avoid_end=avoid_end,
        caution_end=caution_end,
        component_verdicts=_component_verdicts(flags, components, t, avoid_end, caution_end),
        parsed=a.parsed,
    )


def strictest(verdicts) -> str:
    """The strictest of several verdicts (avoid > caution > suitable)."""
    return max(verdicts, key=SEVERITY_RANK.__getitem__, default="suitable")


BADGE_CONTEXT = Context(t=1.0, depth_mm=1.0, modality="mn")


def post_procedure_friendly(
    parsed: ParsedList,
    protocol: Protocol | None = None,
    *,
    name: str | None = None,
    category: str | None = None,
    assessment: Assessment | None = None,
) -> bool:
    """DESIGN.md's badge: safe_from_day <= 1 under the active protocol at 1.0 mm (mn).

    Independent of the person (no avoid-list, not pregnant) and of the time asked about.
    Pass ``assessment`` when one at 1.0 mm mn without personal rules is already at hand.
    An unreadable ingredient list never earns the badge.
    """
    if not parsed.found:
        return False
    a = assessment
    if a is None or a.context.depth_mm != 1.0 or a.context.modality != "mn" or \
            a.context.avoid or a.context.pregnant:
        a = assess(parsed, BADGE_CONTEXT, protocol, name=name, category=category)
    return a.safe_from_day is not None and a.safe_from_day <= 1.0
