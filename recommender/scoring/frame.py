"""``score_frame(df, context) -> df``: THE scoring path (CLI, web, regimen, Dask all call it).

Per product (one row; every input column is kept, in order, and the index is kept):

- ``status``: the parser's status ("ok", or why nothing was read: "empty", "placeholder",
  "prose", "binary", "too_long"); "error" only with ``errors="mark"`` when a row raised;
- ``verdict`` / ``safe_from_day`` / ``never_safe``: the safety engine at the person's time
  (safe_from_day NaN when never safe); ``flags``: JSON list of every flag (open and closed,
  DESIGN.md check contract fields plus ``open``/``stages``);
- ``post_needling_score`` (0-100) and ``score_when_safe`` (see recommender.scoring.formula),
  ``benefit_term``, ``risk_term``, ``reasons_for`` / ``reasons_against`` (JSON lists);
- ``post_procedure_friendly``: the badge (safe_from_day <= 1 at 1.0 mm mn, person-independent);
- ``n_ingredients``, ``n_unrecognized``, ``unrecognized`` (JSON list of names as printed);
- ``concern_<id>``, ``skin_<type>``, ``gentleness``, ``absorption_index``,
  ``absorption_x_vs_intact``: the learned models
  through recommender.scoring.learned (NaN with version "unavailable" until trained);
- ``protocol_name``, ``protocol_version``, ``*_model_version``, ``skinrec_version``.

An unreadable ingredient field (empty, "N/A", "see packaging", prose, binary) is not an
error: the row is scored like ``skinrec check`` does, with the protocol's unreadable-list
caution as its flag, ``status`` saying why, NaN scores and NaN model columns. Only a record
that cannot be read as a record at all (ragged row, broken quoting, bad JSON line) is a
reject, and that is the batch reader's business (recommender.batch.io).

Cost: parsing dominates; the flags JSON is built from a per-flag cache (the same flag, same
position and window, recurs across products), not from ``Flag.to_dict`` per product.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from json.encoder import encode_basestring as _json_str
from typing import NamedTuple

import numpy as np
import pandas as pd

from recommender import __version__
from recommender.inci.model import ParsedList
from recommender.safety import assess, post_procedure_friendly
from recommender.scoring.context import ScoreContext
from recommender.scoring.formula import (
    BENEFIT_LABELS,
    Combiner,
    benefit_positions,
    benefit_term,
    delivery,
    position_weight,
    round_as,
)
from recommender.scoring.learned import (
    CONCERN_COLUMNS,
    SKIN_COLUMNS,
    VERSION_COLUMNS,
    LearnedModels,
    default_models,
)

# Logical column -> default input column name.
DEFAULT_COLUMNS = {"ingredients": "ingredients", "name": "name", "category": "category"}
# Names tried (case-insensitively) when the ingredients column is not given or absent.
INGREDIENT_CANDIDATES = ("ingredients", "clean_ingreds", "ingredient_list", "ingredients_list",
                         "inci", "inci_list", "ingredient")

STRING_COLUMNS = ("status", "verdict", "reasons_for", "reasons_against", "flags",
                  "unrecognized", "protocol_name", "protocol_version", *VERSION_COLUMNS,
                  "skinrec_version")
FLOAT_COLUMNS = ("safe_from_day", "post_needling_score", "score_when_safe", "benefit_term",
                 "risk_term", *CONCERN_COLUMNS, *SKIN_COLUMNS, "gentleness", "absorption_index",
                 "absorption_x_vs_intact")
BOOL_COLUMNS = ("never_safe", "post_procedure_friendly")
INT_COLUMNS = ("n_ingredients", "n_unrecognized")

OUTPUT_COLUMNS = (
    "status", "verdict", "safe_from_day", "never_safe", "post_needling_score",
    "score_when_safe", "post_procedure_friendly", "reasons_for", "reasons_against", "flags",
    "n_ingredients", "n_unrecognized", "unrecognized", *CONCERN_COLUMNS, *SKIN_COLUMNS,
    "gentleness", "absorption_index", "absorption_x_vs_intact", "benefit_term", "risk_term",
    "protocol_name",
    "protocol_version", *VERSION_COLUMNS, "skinrec_version",
)
# the models' columns of the output (score_columns' ``learned``)
MODEL_COLUMNS = (*CONCERN_COLUMNS, *SKIN_COLUMNS, "gentleness", "absorption_index",
                 "absorption_x_vs_intact")


def learned_columns(ctx: ScoreContext, only=None) -> set[str]:
    """The models' columns score_columns reads or answers for this person and ``only``: a
    ``learned`` given to it must hold at least these."""
    read = {"gentleness", "absorption_x_vs_intact",
            *(f"concern_{c}" for c in ctx.concerns), *(f"skin_{s}" for s in ctx.skin_types)}
    return read | {c for c in MODEL_COLUMNS if only is None or c in only}
_DTYPES = {**{c: object for c in STRING_COLUMNS}, **{c: "float64" for c in FLOAT_COLUMNS},
           **{c: "bool" for c in BOOL_COLUMNS}, **{c: "int64" for c in INT_COLUMNS}}


class ColumnError(KeyError):
    """The ingredient column is missing; the message lists the columns present."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def resolve_columns(columns_present, mapping: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Logical name (ingredients, name, category) -> input column (None when absent).

    ``mapping`` (``--map ingredients=clean_ingreds``) wins; otherwise the default name, then
    (for the ingredients) a case-insensitive match among common names. A mapped column that
    is not in the input raises ColumnError.
    """
    present = list(columns_present)
    lower = {str(c).casefold(): c for c in present}
    mapping = dict(mapping or {})
    out: dict[str, str | None] = {}
    for logical, default in DEFAULT_COLUMNS.items():
        if logical in mapping:
            col = mapping[logical]
            if col not in present:
                hit = lower.get(str(col).casefold())
                if hit is None:
                    raise ColumnError(f"column {col!r} (mapped to {logical}) is not in the input; "
                                      f"columns: {', '.join(map(str, present))}")
                col = hit
            out[logical] = col
            continue
        if default in present:
            out[logical] = default
            continue
        cands = INGREDIENT_CANDIDATES if logical == "ingredients" else (default,)
        out[logical] = next((lower[c] for c in cands if c in lower), None)
    if out["ingredients"] is None:
        raise ColumnError(
            "no ingredient column found (tried " + ", ".join(INGREDIENT_CANDIDATES)
            + "); name it with --map ingredients=COLUMN. Columns: " + ", ".join(map(str, present)))
    return out


# ----------------------------------------------------------------------------- flag cache

_FLAG_CACHE: dict[tuple, tuple[str, str, float, float]] = {}
_FLAG_CACHE_MAX = 20_000        # ~20 MB at most; the common flags recur within a chunk
_KEEP_ALIVE: dict[int, object] = {}     # protocols whose rules are keyed by id() in the cache
_FLAG_DICTS: dict[str, dict] = {}       # JSON text -> its dict (score_columns as_lists)


COMPACT_FLAG_KEYS = ("scope", "ingredient", "inci", "position", "class", "rule", "severity",
                     "until_day", "open")
FLAG_DETAILS = ("full", "compact")


def _flag_entry(f, weights, detail: str = "full") -> tuple[str, str, float, float]:
    """(JSON text, reason, severity weight, end of the last stage) for one flag, cached.

    ``detail="full"``: every field of ``Flag.to_dict`` (the `check --json` contract);
    ``"compact"``: COMPACT_FLAG_KEYS only (the rule's window text, source and evidence are in
    the protocol, `skinrec protocol`; the reasons of open flags are in reasons_against).
    """
    key = (id(f.rule), f.ingredient, f.where, f.stages, f.severity, f.until_day, f.open,
           f.inci, f.klass, f.component, f.detail, f.suffix, detail, weights.severity_caution)
    hit = _FLAG_CACHE.get(key)
    if hit is None:
        sev_w = weights.severity_avoid if any(s == "avoid" for s, _ in f.stages) \
            else weights.severity_caution
        if detail == "compact":
            d = f.to_dict()
            js = json.dumps({k: d[k] for k in COMPACT_FLAG_KEYS}, ensure_ascii=False,
                            separators=(",", ":"))
            reason = d["reason"]
        else:
            js, reason = flag_json(f)
        hit = (js, reason, sev_w, f.stages[-1][1])
        if len(_FLAG_CACHE) >= _FLAG_CACHE_MAX:
            _FLAG_CACHE.clear()
        _FLAG_CACHE[key] = hit
    return hit


def _flag_dict(js: str) -> dict:
    """The dict a flag's JSON text decodes to, decoded once per text (shared: read-only)."""
    d = _FLAG_DICTS.get(js)
    if d is None:
        if len(_FLAG_DICTS) >= _FLAG_CACHE_MAX:
            _FLAG_DICTS.clear()
        d = _FLAG_DICTS[js] = json.loads(js)
    return d


# The rule- and window-level parts of a flag's JSON, keyed by what they depend on: most
# flag-cache misses are a known rule and window at a new position or spelling.
_FLAG_PARTS: dict[tuple, tuple[str, str]] = {}
_MID_KEYS = ("rule", "severity", "until_day", "open", "never", "stages")


def _json_value(v) -> str:
    """One scalar as json.dumps(ensure_ascii=False) writes it (_json_str is its text encoder)."""
    if v is None:
        return "null"
    if type(v) is str:
        return _json_str(v)
    if type(v) is int:
        return int.__repr__(v)
    return json.dumps(v, ensure_ascii=False)


def flag_json(f) -> tuple[str, str]:
    """(``json.dumps(f.to_dict(), ensure_ascii=False, separators=(",", ":"))``, ``f.reason``)
    without building the dict: the rule's and window's fields are dumped once per rule and
    window and reused; the per-mention fields (ingredient, inci, position, component,
    section, class) and the reason are escaped with the encoder json.dumps itself uses for
    text. The same bytes as dumping ``to_dict`` (checked in tests/test_score_frame.py)."""
    key = (id(f.rule), f.stages, f.severity, f.until_day, f.open)
    parts = _FLAG_PARTS.get(key)
    if parts is None:
        d = f.to_dict()
        mid = json.dumps({k: d[k] for k in _MID_KEYS}, ensure_ascii=False, separators=(",", ":"))
        tail = json.dumps({"source": d["source"], "evidence": d["evidence"]},
                          ensure_ascii=False, separators=(",", ":"))
        parts = (mid[1:-1], tail[1:-1])
        if len(_FLAG_PARTS) >= _FLAG_CACHE_MAX:
            _FLAG_PARTS.clear()
        _FLAG_PARTS[key] = parts
    reason = f.reason
    js = "".join(('{"scope":', _json_value(f.scope), ',"ingredient":', _json_value(f.ingredient),
                  ',"inci":', _json_value(f.inci), ',"position":', _json_value(f.position),
                  ',"component":', _json_value(f.component), ',"section":',
                  _json_value(f.section), ',"class":', _json_value(f.klass), ",", parts[0],
                  ',"reason":', _json_str(reason), ",", parts[1], "}"))
    return js, reason


_POSITION_WEIGHTS = [1.0] + [position_weight(p) for p in range(1, 256)]


class SafetyPart(NamedTuple):
    """What a row's scoring takes from its safety assessment (:func:`safety_part`)."""

    verdict: str
    safe_from_day: float | None
    flags: tuple | str            # flag dicts (shared, read-only) with as_lists, else JSON
    against: tuple[str, ...]      # the open flags' reasons, deduplicated, cut at max_reasons
    keep_now: float               # prod(1 - severity w(pos) openness) over ingredient flags
    keep_later: float             # the same on the day the product becomes usable
    verdict_later: str            # the verdict on that day
    ingredient_flagged: bool      # any ingredient-scope flag, open or closed


def safety_part(a, weights, detail: str = "full", *, as_lists: bool = False) -> SafetyPart:
    """The flags column, the open flags' reasons, the risk term's factors (open now, and on
    the day the product becomes usable) and the verdicts of one assessment: what a row's
    score needs from the safety engine. A function of the assessment's flags (their stages,
    ``open`` and text), its ends and time, the weights and ``detail`` only, so a caller that
    knows those are unchanged may keep the answer (recommender.scoring.prepared does)."""
    t = a.context.t
    closed_w = weights.closed_flag_weight
    pw = _POSITION_WEIGHTS
    max_r = weights.max_reasons
    pieces = []
    reasons: list[str] = []
    keep_now = keep_later = 1.0
    flagged = False
    x_safe = t if a.safe_from_day is None else max(t, a.safe_from_day)
    for f in a.flags:
        js, reason, sev_w, last_end = _flag_entry(f, weights, detail)
        pieces.append(_flag_dict(js) if as_lists else js)
        if f.open:
            reasons.append(reason)
        if f.scope != "ingredient":
            continue
        flagged = True
        pos = f.position
        base = sev_w * (pw[pos] if pos is not None and 0 < pos < 256 else position_weight(pos))
        keep_now *= 1.0 - min(1.0, base * (1.0 if f.open else closed_w))
        keep_later *= 1.0 - min(1.0, base * (1.0 if x_safe < last_end else closed_w))
    flags = tuple(pieces) if as_lists else "[" + ",".join(pieces) + "]"
    return SafetyPart(a.verdict, a.safe_from_day, flags, against_reasons(reasons, max_r),
                      keep_now, keep_later, a.verdict_at(x_safe), flagged)


def against_reasons(reasons: list[str], max_r: int) -> tuple[str, ...]:
    """The open flags' reasons as reasons_against lists them: each once, in flag order, at
    most ``max_r`` and a line saying how many more."""
    against = list(dict.fromkeys(reasons))
    if len(against) > max_r:
        against = against[:max_r] + [f"... and {len(against) - max_r} more open flag(s)"]
    return tuple(against)


class BenefitPart(NamedTuple):
    """What a row's scoring takes from its beneficial classes (:func:`benefit_part`)."""

    best: dict[str, int]          # class -> best declared position (benefit_positions)
    where: dict[str, str]         # class -> the name printed there
    term: float                   # benefit_term(best) before absorption
    contains: tuple[str, ...]     # the "contains ..." reasons of the three strongest classes


def benefit_part(mentions, weights) -> BenefitPart:
    """The benefit term before absorption and the "contains ..." reasons of one product's
    mentions for these weights: person-independent, so a prepared catalog computes them
    once per product."""
    values = weights.benefit_values
    best, where = benefit_positions(mentions, values)
    ranked = sorted(best, key=lambda c: -values[c] * position_weight(best[c]))
    contains = tuple(f"contains {BENEFIT_LABELS.get(c, c)}: {where[c]} (position {best[c]})"
                     for c in ranked[:3])
    return BenefitPart(best, where, benefit_term(best, weights), contains)


def _dumps(items: list[str]) -> str:
    return json.dumps(items, ensure_ascii=False)


def _empty_text(_items: list) -> str:
    return "[]"


def _as_is(items: list) -> list:
    return items


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return value if isinstance(value, str) else str(value)


def _opt_text(value) -> str | None:
    t = _text(value)
    return t or None


# ----------------------------------------------------------------------------- scoring


def empty_output(df: pd.DataFrame) -> pd.DataFrame:
    """The output frame's shape and dtypes for ``df``'s columns (Dask ``meta``)."""
    out = df.iloc[:0].copy()
    for c in OUTPUT_COLUMNS:
        out[c] = pd.Series([], dtype=_DTYPES[c], index=out.index)
    return out


def score_frame(df: pd.DataFrame, context=None, *, columns: Mapping[str, str] | None = None,
                models: LearnedModels | None = None, reader=None,
                errors: str = "raise") -> pd.DataFrame:
    """Score every row of ``df`` for one person; returns ``df``'s columns plus OUTPUT_COLUMNS.

    ``context``: a :class:`ScoreContext` (or a safety ``Context``, or None for the
    defaults). ``columns``: logical -> input column mapping (see :func:`resolve_columns`).
    ``errors``: "raise" (default) lets an unexpected exception in one row propagate; "mark"
    sets that row's status to "error" with the message in ``reasons_against`` (the batch
    engines move such rows to the rejects file).
    """
    if errors not in ("raise", "mark"):
        raise ValueError("errors must be 'raise' or 'mark'")
    ctx = ScoreContext.coerce(context)
    cols = resolve_columns(df.columns, columns)
    clash = [c for c in OUTPUT_COLUMNS if c in df.columns]
    if clash:
        df = df.rename(columns={c: f"input_{c}" for c in clash})
        cols = {k: (f"input_{v}" if v in clash else v) for k, v in cols.items()}
    n = len(df)
    if n == 0:
        return empty_output(df)
    texts = [_text(v) for v in df[cols["ingredients"]].tolist()]
    names = [_opt_text(v) for v in df[cols["name"]].tolist()] if cols["name"] else [None] * n
    cats = [_opt_text(v) for v in df[cols["category"]].tolist()] if cols["category"] else [None] * n
    data = score_columns(texts, names, cats, ctx, models=models, reader=reader, errors=errors)
    # Series with explicit dtypes: a frame built from object arrays would infer "str".
    new = pd.DataFrame({c: pd.Series(v, index=df.index, dtype=_DTYPES[c], copy=False)
                        for c, v in data.items()}, index=df.index)
    return pd.concat([df.copy(deep=False), new], axis=1)


def score_columns(texts: list[str], names: list[str | None], cats: list[str | None],
                  ctx: ScoreContext, *, models: LearnedModels | None = None, reader=None,
                  errors: str = "raise", badges=None, assessor=None,
                  as_lists: bool = False, benefits=None,
                  safety_parts=None, only=None, unrecognized=None, parsed=None,
                  learned=None, plain: bool = False) -> dict[str, np.ndarray | list]:
    """The scoring itself, without a frame: OUTPUT_COLUMNS -> one array each (dtypes as in
    score_frame's output), for the products whose ingredient texts, names and categories
    are given (None: absent). :func:`score_frame` wraps this for a DataFrame; the prepared
    catalog (recommender.scoring.prepared) calls it for the few rows a request shows, so a
    request builds no frame. ``badges``: the post-procedure-friendly badge of each product
    when already known (it is person-independent); None computes it. ``assessor``: a
    function (i, parsed) -> the safety assessment of product i for this context, when the
    caller keeps assessments (``recommender.safety.retime``); None calls ``assess``.
    ``benefits``: each product's :func:`benefit_part` for these weights when already known
    (person-independent); None computes them.
    ``safety_parts``: a function (i, parsed) -> product i's :class:`SafetyPart` for this
    context (what :func:`safety_part` gives for its assessment), when the caller keeps
    them; it replaces ``assessor`` (and ``badges`` should be given with it).
    ``as_lists``: the four JSON columns (flags, reasons_for, reasons_against, unrecognized)
    hold the Python lists their JSON text would decode to, for a caller that answers in
    JSON anyway (the prepared catalog's ranked items); flag dicts are shared, read-only.
    ``only``: the output columns wanted (a set; None: all of OUTPUT_COLUMNS); the others are
    left out of the answer (their values are not turned into arrays; the unrecognized
    names' list and the risk term are not even made).
    ``unrecognized``: each product's ``parsed.unrecognized`` when already known (a prepared
    catalog keeps them: the list is built anew on every access); read-only.
    ``parsed``: each product's reading of its text when already known (a prepared catalog
    keeps them); None reads the texts with ``reader``.
    ``learned``: the models' columns for these products when already known (a prepared
    catalog takes them by row, not by text): column -> array, holding at least
    :func:`learned_columns`; None asks ``models.predict``.
    ``plain``: each column as the list of plain Python values its array's ``tolist()`` would
    give, without making the array (a caller that answers in JSON: the prepared catalog).
    """
    n = len(texts)
    protocol = ctx.active_protocol
    _KEEP_ALIVE.setdefault(id(protocol), protocol)
    weights = ctx.weights
    safety = ctx.safety
    if reader is None:
        from recommender.knowledge.reader import default_reader

        reader = default_reader()
    if models is None:
        models = default_models(ctx.use_models)

    failed: dict[int, str] = {}
    if parsed is None:
        parsed = _read(texts, reader, errors, failed)
    if learned is None:
        learned = models.predict(texts, [c or "" for c in cats], parsed,
                                 t_hours=safety.hours, depth_mm=safety.depth_mm)
    concern_idx = [CONCERN_COLUMNS.index(f"concern_{c}") for c in ctx.concerns]
    skin_idx = [SKIN_COLUMNS.index(f"skin_{s}") for s in ctx.skin_types]
    gentleness = learned["gentleness"]
    x_intact = learned["absorption_x_vs_intact"]
    # Row values are read from and written to lists (numpy's scalar get/set is ~10x a
    # list's); list(array) keeps numpy float64 values, whose type decides how the scores
    # round (formula.round_as). The columns become arrays of their dtype at the end.
    gentle_v, x_v = list(gentleness), list(x_intact)

    verdict = [""] * n
    nan = math.nan
    sfd = [nan] * n
    never = [False] * n
    score = [nan] * n
    when_safe = [nan] * n
    benefit_col = [nan] * n
    risk_col = [nan] * n
    badge = [False] * n
    flags_col = [""] * n
    rf_col = [""] * n
    ra_col = [""] * n
    n_ing = [0] * n
    n_unrec = [0] * n
    unrec_col = [""] * n
    status = [""] * n
    detail = ctx.flag_detail
    max_r = weights.max_reasons
    dumps = _as_is if as_lists else _dumps
    empty = _as_is if as_lists else _empty_text
    # The person's fit per product (the same means the loop used to take row by row): the
    # mean across the person's columns only, stacked side by side as the matrix of every
    # column indexed by them would be (the same array, so the same means)
    concern_fit = _fit([learned[CONCERN_COLUMNS[j]] for j in concern_idx])
    skin_fit = _fit([learned[SKIN_COLUMNS[j]] for j in skin_idx])

    # each concern's and skin type's column, and how its reasons name it
    concern_cols = [(list(learned[f"concern_{c}"]), c.replace("_", " "))
                    for c in ctx.concerns]
    skin_cols = [(list(learned[f"skin_{s}"]), s) for s in ctx.skin_types]
    good_p, poor_p = weights.good_probability, weights.poor_probability
    # per-row values a caller may not want (the ranked items read neither)
    want_unrec = only is None or "unrecognized" in only
    want_risk = only is None or "risk_term" in only
    comb = Combiner(weights)        # combine() of the terms below, in its order

    for i in range(n):
        p = parsed[i]
        if i in failed:
            status[i] = "error"
            verdict[i] = "caution"
            flags_col[i] = empty([])
            rf_col[i] = empty([])
            ra_col[i] = dumps([failed[i]])
            unrec_col[i] = empty([])
            continue
        part = None
        try:
            if safety_parts is not None:
                part = safety_parts(i, p)
                a = None
            else:
                a = assessor(i, p) if assessor is not None else \
                    assess(p, safety, protocol, name=names[i], category=cats[i])
            badge[i] = badges[i] if badges is not None else post_procedure_friendly(
                p, protocol, name=names[i], category=cats[i], assessment=a)
        except Exception as exc:
            if errors == "raise":
                raise
            status[i] = "error"
            verdict[i] = "caution"
            flags_col[i] = empty([])
            rf_col[i] = empty([])
            ra_col[i] = dumps([f"internal error while assessing: {type(exc).__name__}: {exc}"])
            unrec_col[i] = empty([])
            continue
        if part is None:
            part = safety_part(a, weights, detail, as_lists=as_lists)
        status[i] = p.status
        verdict[i] = part.verdict
        if part.safe_from_day is None:
            never[i] = True
        else:
            sfd[i] = part.safe_from_day
        unrec = p.unrecognized if unrecognized is None else unrecognized[i]
        n_ing[i] = len(p.ingredients)
        n_unrec[i] = len(unrec)
        if want_unrec:
            unrec_col[i] = dumps(list(unrec)) if unrec else empty([])
        flags_col[i] = list(part.flags) if as_lists else part.flags
        against = list(part.against)

        reasons_for: list[str] = []
        if p.found:
            # Benefit term: best declared position per beneficial class.
            bp = benefits[i] if benefits is not None else benefit_part(p.ingredients, weights)
            x = x_v[i]
            b = bp.term * delivery(x, weights)
            risk_now = 1.0 - part.keep_now
            risk_later = 1.0 - part.keep_later
            benefit_col[i] = round_as(b, 4)
            if want_risk:
                risk_col[i] = round_as(risk_now, 4)
            cf = concern_fit[i] if concern_fit is not None else None
            sf = skin_fit[i] if skin_fit is not None else None
            score[i] = comb(b, gentle_v[i], 1.0 - risk_now, cf, sf, part.verdict)
            if part.safe_from_day is not None:
                when_safe[i] = comb(b, gentle_v[i], 1.0 - risk_later, cf, sf,
                                    part.verdict_later)
            # Reasons for.
            if badge[i]:
                reasons_for.append("post-procedure friendly: usable from day 1 after 1.0 mm needling")
            reasons_for.extend(bp.contains)
            if bp.best and x == x and x >= 2:
                reasons_for.append(f"channels still open: ~{x:.0f}x the uptake of intact skin")
            for col, label in concern_cols:
                pc = col[i]
                if pc == pc:
                    if pc >= good_p:
                        reasons_for.append(f"good for {label} ({pc:.0%})")
                    elif pc < poor_p:
                        against.append(f"weak match for {label} ({pc:.0%})")
            for col, s in skin_cols:
                ps = col[i]
                if ps == ps:
                    if ps >= good_p:
                        reasons_for.append(f"suits {s} skin ({ps:.0%})")
                    elif ps < poor_p:
                        against.append(f"rarely suits {s} skin ({ps:.0%})")
            g = gentle_v[i]
            if g == g and g >= weights.gentle_threshold:
                reasons_for.append(f"gentle: suits sensitive skin ({g:.0%})")
            if not part.ingredient_flagged:
                reasons_for.append("no ingredient flagged by the protocol")
            if unrec:
                shown = "; ".join(unrec[:3]) + (" ..." if len(unrec) > 3 else "")
                against.append(f"{len(unrec)} ingredient name(s) not recognised: {shown}")
        rf_col[i] = dumps(reasons_for[:max_r]) if reasons_for else empty([])
        ra_col[i] = dumps(against) if against else empty([])

    data = {
        "status": status, "verdict": verdict, "safe_from_day": sfd, "never_safe": never,
        "post_needling_score": score, "score_when_safe": when_safe,
        "post_procedure_friendly": badge, "reasons_for": rf_col, "reasons_against": ra_col,
        "flags": flags_col, "n_ingredients": n_ing, "n_unrecognized": n_unrec,
        "unrecognized": unrec_col,
    }
    for c in MODEL_COLUMNS:             # a ``learned`` given may hold only those wanted
        if only is None or c in only:
            data[c] = learned[c]
    data["benefit_term"] = benefit_col
    data["risk_term"] = risk_col
    data["protocol_name"] = protocol.name
    data["protocol_version"] = str(protocol.version)
    for c, v in models.versions.items():
        data[c] = v
    data["skinrec_version"] = __version__
    column = _plain_column if plain else _column
    return {c: column(data[c], _DTYPES[c], n) for c in OUTPUT_COLUMNS
            if only is None or c in only}


def _read(texts: list[str], reader, errors: str, failed: dict[int, str]) -> list[ParsedList]:
    """Each text's reading (identical fields in a chunk read once; the mentions are not
    mutated by the scoring). A reader with read_many reads the chunk's distinct lists with
    one call of the learned class fallback; should that raise, every row is read on its own
    (errors="mark": a row that still raises is an "error" row, its message in ``failed``)."""
    parsed: list[ParsedList] = []
    seen: dict[str, ParsedList] = {}
    if hasattr(reader, "read_many"):
        distinct = list(dict.fromkeys(texts))
        try:
            seen = dict(zip(distinct, reader.read_many(distinct), strict=True))
        except Exception:
            if errors == "raise":
                raise
            seen = {}
    for i, text in enumerate(texts):
        p = seen.get(text)
        if p is None:
            try:
                p = reader.read(text)
            except Exception as exc:
                if errors == "raise":
                    raise
                failed[i] = f"internal error while parsing: {type(exc).__name__}: {exc}"
                p = ParsedList(text=text, status="error")
            else:
                seen[text] = p
        parsed.append(p)
    return parsed


def _fit(columns: list[np.ndarray]) -> list[float] | None:
    """Each row's mean over ``columns`` (None without any): numpy's mean of the columns
    stacked side by side. For fewer than 8 columns, the same value from column-wise sums,
    without stacking (~15 us a call for a web request's ~30 rows; ~3 this way): numpy adds
    fewer than 8 values from the first on, in order (from 8 on it sums pairwise), then
    divides by the count (tests/test_score_frame.py compares the two bit for bit)."""
    if not columns:
        return None
    m = len(columns)
    if m >= 8:
        return np.column_stack(columns).mean(axis=1).tolist()
    total = columns[0]
    for c in columns[1:]:
        total = total + c
    return (total / m).tolist()


def _plain_column(values, dtype, n: int) -> list:
    """``_column(values, dtype, n).tolist()`` without the array: each value as the array of
    that dtype would hold it, then as Python gives it back (a float, bool or int; an object
    as it is). A request's ~30 rows: converting a list takes less than making an array of
    it and a list again."""
    if dtype is object:
        return [values] * n if isinstance(values, str) else list(values)
    if isinstance(values, np.ndarray):
        return values.astype(dtype, copy=False).tolist()
    conv = _PLAIN[dtype]
    return [conv(v) for v in values]


_PLAIN = {"float64": float, "bool": bool, "int64": int}


def _column(values, dtype, n: int) -> np.ndarray:
    """One output column as an array of its dtype (a scalar is repeated n times)."""
    if dtype is object:
        if isinstance(values, str):
            return np.full(n, values, dtype=object)
        arr = np.empty(n, dtype=object)
        for j, v in enumerate(values):      # values may be lists (as_lists)
            arr[j] = v
        return arr
    return np.asarray(values, dtype=dtype)
