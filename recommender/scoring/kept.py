"""Per-product safety answers kept across requests (the prepared catalog's shown rows).

Which need it answers: a web recommend request shows ~35 products and re-scores them
through :func:`recommender.scoring.frame.score_columns`; the same products head the lists
of many requests. For each, assessing (or retiming a kept assessment) and turning the
flags into the flags column, the open flags' reasons and the risk term's factors
(:func:`recommender.scoring.frame.safety_part`) was ~0.15 ms of Python, about half of a
request's scoring. That answer depends on the request only through

- the protocol, the depth and modality factor, the modality and pregnancy (the rules that
  apply and their windows);
- the depth itself only through the words " after 0.75 mm microneedling" that end the
  reasons of scaled windows (:meth:`Flag.reason_parts`): a kept answer for another depth of
  the same factor is re-worded, not recomputed;
- the person's avoid-list, *only when the product holds an item of it*: otherwise no
  avoid-list flag is added (the engine's ``_avoid_match`` finds nothing, and the prepared
  catalog's ``_avoid_hits`` index compares exactly those identities);
- the weights and the flag detail (the flag JSON, the severity weights, max_reasons);
- the time t only through which of the product's stage ends t has passed (every flag's
  ``open``, current stage, the verdicts now and on the day it becomes usable compare t,
  or max(t, safe_from_day), with those ends and nothing else).

:class:`SafetyParts` keeps them keyed by exactly that: one entry per (treatment, product)
holding the product's sorted stage ends and one answer per stretch of t between them.
Bounded: the last ``limit`` entries are kept (a few stretches each, each with at most
REWORDED_KEPT re-worded answers: the most used ones, so that depths typed once do not
take the place of the usual ones).
tests/test_kept.py compares kept answers with fresh ``safety_part(assess(...))`` on real
products for every kind of context.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable

from recommender.safety.engine import treatment_suffix
from recommender.scoring.frame import SafetyPart, against_reasons, safety_part

REWORDED_KEPT = 2       # re-worded answers kept per answer (the usual depths of its factor)
SUFFIXES_COUNTED = 2000  # treatments whose requests are counted (then the rare ones forgotten)


def avoid_key(avoid) -> str | None:
    """Everything of a resolved avoid-list the engine's matching and flag text read
    (identity -> the item typed, per kind); None for an empty list."""
    if not avoid:
        return None
    return repr((sorted(avoid.classes.items()), sorted(avoid.inci.items()),
                 sorted(avoid.names.items())))


class SafetyParts:
    """Kept :class:`SafetyPart` answers of (treatment, product) pairs; see the module doc."""

    def __init__(self, limit: int):
        self.limit = limit
        self._kept: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._asked: dict[str, int] = {}      # treatment suffix -> requests that asked it

    def __len__(self) -> int:
        return len(self._kept)

    def getter(self, ctx, rows: list[int], assessment: Callable, hits=None) -> Callable:
        """(i, parsed) -> the SafetyPart (score_columns' ``as_lists`` shape) of product
        ``rows[i]`` for ``ctx``: kept, or ``safety_part(assessment(i, parsed), ...)`` (then
        kept). ``assessment`` gives the product's assessment for ``ctx``; ``hits[row]`` says
        whether product ``row`` holds an item of the person's avoid-list (None: the list is
        empty)."""
        safety, protocol, weights = ctx.safety, ctx.active_protocol, ctx.weights
        detail, max_r = ctx.flag_detail, weights.max_reasons
        t = safety.t
        suffix = treatment_suffix(safety, protocol)
        base = (id(protocol), protocol.factor(safety.depth_mm, safety.modality),
                safety.modality, safety.pregnant, id(weights), detail)
        with_avoid = (*base, avoid_key(safety.avoid)) if hits is not None else base
        kept, lock, limit, asked = self._kept, self._lock, self.limit, self._asked
        with lock:
            asked[suffix] = asked.get(suffix, 0) + 1
            if len(asked) > SUFFIXES_COUNTED:        # forget the depths seldom asked
                kept_counts = {k: n // 2 for k, n in asked.items() if n >= 2}
                asked.clear()
                asked.update(kept_counts)

        def get(i: int, parsed) -> SafetyPart:
            row = rows[i]
            key = (with_avoid if hits is not None and hits[row] else base, row)
            with lock:
                entry = kept.get(key)
                if entry is not None:
                    kept.move_to_end(key)
            a = None
            if entry is None or entry[0] is not protocol or entry[1] is not weights:
                a = assessment(i, parsed)
                # 0.0: the verdict's ends when no window applies
                ends = sorted({0.0, *(end for f in a.flags for _sev, end in f.stages)})
                entry = (protocol, weights, ends, {})
                with lock:
                    kept[key] = entry
                    while len(kept) > limit:
                        kept.popitem(last=False)
            stretch = bisect_right(entry[2], t)
            got = entry[3].get(stretch)
            if got is None:
                if a is None:
                    a = assessment(i, parsed)
                part = safety_part(a, weights, detail, as_lists=True)
                got = entry[3][stretch] = (suffix, part, _wording(a, part))
                return part
            said, part, wording = got
            if said == suffix:
                return part
            if wording is None:
                return safety_part(assessment(i, parsed), weights, detail, as_lists=True)
            other = wording[3].get(suffix)
            if other is None:
                other = _reworded(part, wording, suffix, max_r)
                with lock:
                    kept_it = _keep_reworded(wording[3], suffix, other, asked)
                if not kept_it:
                    for d in other.flags:
                        if type(d) is RewordedFlag:
                            d.once = True
            return other

        return get


def _keep_reworded(kept: dict, suffix: str, part: SafetyPart, asked: dict) -> bool:
    """Keep ``part`` (re-worded for ``suffix``) in ``kept`` (suffix -> part): while there is
    room, or in place of the kept one whose treatment fewer requests asked (``asked``:
    suffix -> requests), when ``suffix`` was asked by more. The usual depths of a factor are
    asked again and again; a depth typed once (1.23 mm) is not, and must not take their
    place (the first depths seen kept theirs for good, whichever they were). Returns whether
    ``part`` is kept."""
    if len(kept) < REWORDED_KEPT:
        kept[suffix] = part
        return True
    least = min(kept, key=lambda k: asked.get(k, 0))
    if asked.get(least, 0) < asked.get(suffix, 0):
        del kept[least]
        kept[suffix] = part
        return True
    return False


def _wording(a, part: SafetyPart):
    """How ``part`` (of assessment ``a``) reads after another depth of the same factor: per
    flag, (head, tail) of its reason around the treatment suffix (None: no suffix), whether
    it is open and its reason, in flag order, and the re-worded answers kept (by suffix);
    None when a reason is not of that shape."""
    parts, opened, said = [], [], []
    for f, d in zip(a.flags, part.flags, strict=True):
        reason = d.get("reason") or f.reason        # the full flag dict holds it
        try:
            parts.append(f.reason_parts(reason))
        except ValueError:
            return None
        opened.append(f.open)
        said.append(reason)
    return tuple(parts), tuple(opened), tuple(said), {}      # {}: re-worded parts kept


class RewordedFlag(dict):
    """A flag dict re-worded for another depth: ``base`` (the kept flag dict) with only its
    "reason" replaced, in the same place. An encoder that keeps ``base``'s JSON text can
    write this one by putting the new reason into it (web.json_provider): a depth typed once
    re-words every shown product's flags, ~8 lists a request. ``once``: the answer it is
    part of is not kept (it is made anew if that depth is asked again), so keeping its text
    would only push out texts that are asked again."""

    __slots__ = ("base", "once")


def _reworded_flag(d: dict, reason: str) -> RewordedFlag:
    """``{**d, "reason": reason}`` as a RewordedFlag of ``d``'s base (dict's own copy: no
    Python ``__init__`` per flag)."""
    base = d.base if type(d) is RewordedFlag else d
    out = RewordedFlag(base)
    out["reason"] = reason
    out.base = base
    out.once = False
    return out


def _reworded(part: SafetyPart, wording, suffix: str, max_r: int) -> SafetyPart:
    """``part`` with every reason naming the treatment re-worded for ``suffix``."""
    parts, opened, said, _kept = wording
    flags, reasons = [], []
    for d, ht, is_open, reason in zip(part.flags, parts, opened, said, strict=True):
        if ht is not None:
            reason = ht[0] + suffix + ht[1]
            if "reason" in d:
                d = _reworded_flag(d, reason)
        flags.append(d)
        if is_open:
            reasons.append(reason)
    return part._replace(flags=tuple(flags), against=against_reasons(reasons, max_r))


__all__ = ["RewordedFlag", "SafetyParts", "avoid_key"]
