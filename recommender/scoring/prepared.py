"""A catalog read once and ranked per request: the web app's and the regimen's catalog.

Which need it answers: the web app asks many questions of the same catalog for different
people ("needled yesterday at 1.0 mm, dark spots", "day 5, 0.5 mm, no fragrance", ...).
Re-reading and re-scoring 10,000 ingredient lists per request takes seconds; DESIGN.md asks
for recommend p95 <= 50 ms on a 10k-product catalog. A :class:`PreparedCatalog` keeps what
does not depend on the person:

- each list read once (the reader's ParsedList), the concern / skin-type / gentleness
  predictions (they depend on the list and category only), the benefit classes, the
  absorption terms of every ingredient (recommender.learn.absorption ``AbsorptionPlan``:
  the shown rows' absorption at each request's time and depth, without a permeability
  lookup per request, each row's kept per time and depth), and the estimate's benefit
  terms of every product for the times and depths asked again and again
  (``_benefit_now``: a time asked once is not kept);
- per (protocol, depth factor, modality, pregnancy) the safety engine's assessment of every
  product *without* a time: each flag's stages and the product's avoid/caution ends
  (``assess`` computes them independently of t; only ``open`` depends on t). The person's
  avoid-list is applied through an index of the same identities the engine matches
  (``_avoid_match``: class ids, canonical INCI, printed names), because its rule never
  closes (``until: never``): a request with an avoid-list takes the verdicts and risk terms
  kept for the same table and time without it and changes only the products the list hits
  (``_with_avoid``); a protocol whose avoid-list rule does close is assessed with the
  avoid-list in the key instead.

A request then evaluates verdicts and an approximate score for every product with numpy,
picks the rows that can be in each list's top k (with a margin around the k-th score), and
scores *those rows* with :func:`recommender.scoring.score_frame` (the one scoring path),
taking each row's safety part (flags, open reasons, risk factors, verdicts) from the answers
kept across requests (recommender.scoring.kept: per treatment, product and stretch of t;
the assessments behind them are kept per modality and pregnancy and rescaled for every
depth and day, ``recommender.safety.rescale``) and its benefit part from the prepared ones.
The items returned, their scores, reasons and flags are score_frame's; the counts are exact
(verdicts are compared, not approximated). ``tests/test_prepared.py`` checks on real
catalogs that ``recommend`` here returns what :func:`recommender.recommend.recommend`
returns over the whole catalog.

Interface: ``PreparedCatalog(df, columns=None, source="", demo=False)``; ``len(pc)``;
``pc.frame`` (the input plus ``input_row`` 1..n and ``product_id`` as text, the row number
when the catalog has no id column); ``pc.recommend(context, k=10, budget=None,
strict=False) -> dict`` (the shape of ``skinrec recommend --json``); ``pc.score(context,
product_ids=None) -> DataFrame``; ``pc.product(product_id) -> dict | None``.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import sparse

from recommender.memo import remember
from recommender.safety import assess, rescale
from recommender.safety.context import EMPTY_AVOID, fold_name
from recommender.safety.engine import BADGE_CONTEXT
from recommender.scoring.context import ScoreContext
from recommender.scoring.formula import position_weight
from recommender.scoring.frame import (
    _opt_text,
    _text,
    benefit_part,
    learned_columns,
    resolve_columns,
    score_columns,
    score_frame,
)
from recommender.scoring.kept import SafetyParts, avoid_key
from recommender.scoring.learned import CONCERN_COLUMNS, SKIN_COLUMNS, default_models

ID_CANDIDATES = ("product_id", "id", "sku", "Product ID")
# The estimate's scores are the exact ones' sums in another float order, rounded to 0.1 like
# them: a rounding can land one step away, never more (ESTIMATE_TOLERANCE; asserted on every
# row of a real catalog by tests/test_prepared.py). Then the k-th exact score is at least the
# k-th estimate minus one tolerance, and a row's estimate at most one tolerance below its
# exact score: every row of the exact first k has an estimate within two tolerances of the
# k-th estimate, and those are the rows scored exactly (~22 % -> ~6 % more than are shown).
ESTIMATE_TOLERANCE = 0.1 + 1e-6
SCORE_MARGIN = 2 * ESTIMATE_TOLERANCE
BENEFIT_MARGIN = 1e-3        # the benefit is rounded to 4 places: one step is 1e-4
SAFETY_TABLES_KEPT = 64      # (protocol, factor, modality, pregnancy[, avoid]) tables per process
ASSESSMENTS_KEPT = 5000      # (protocol, modality, pregnancy[, avoid], product) assessments, rescaled
PARTS_KEPT = 8000            # (treatment, product) safety parts of shown rows: ~2-4 KB each
FIT_TERMS_KEPT = 32          # learned terms' (w v, w) arrays: 160 kB each at 10k rows
AVOID_HITS_KEPT = 64         # avoid-lists' product masks: 10 kB each at 10k rows
UPTAKE_KEPT = 64             # (time and depth, weights) benefit terms: 240 kB each at 10k rows
UPTAKE_SEEN = 128            # ... and the last asked but not kept (kept when asked again)
TIMED_KEPT = 96              # (safety table, interval of t) verdicts and risk terms: 180 kB at 10k
ABSORPTION_KEPT = 20_000     # (time, depth, product) absorption of shown rows: ~330 B each


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or v == ""


class _CachedReader:
    """The reader, answering from the prepared lists (score_frame's ``reader=``)."""

    def __init__(self, base, cache: dict):
        self.base, self.cache = base, cache

    def read(self, text: str):
        p = self.cache.get(text)
        return p if p is not None else self.base.read(text)

    def read_many(self, texts) -> list:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        got = dict(zip(missing, self.base.read_many(missing), strict=True)) if missing else {}
        return [self.cache[t] if t in self.cache else got[t] for t in texts]


class _CachedModels:
    """LearnedModels whose person-independent columns come from the prepared arrays."""

    def __init__(self, base, rows: dict, fit: dict[str, np.ndarray]):
        self.base, self.rows, self.fit = base, rows, fit
        self.plan = None            # the catalog's AbsorptionPlan, when the model is there
        # every column side by side: a request's rows are taken with one index, not one
        # per column (~20)
        self._names = list(fit)
        self._mat = np.column_stack([fit[c] for c in self._names])
        self._abs_kept: OrderedDict = OrderedDict()   # (time, depth) -> {row: pair}
        self._abs_rows = 0                              # pairs kept in all
        self._abs_lock = threading.Lock()

    def __getattr__(self, name):          # versions, has_concerns, problems ...
        return getattr(self.base, name)

    def predict(self, texts, categories, parsed, *, t_hours: float, depth_mm: float):
        keys = [self.rows.get((t, c)) for t, c in zip(texts, categories, strict=True)]
        if any(k is None for k in keys):
            return self.base.predict(texts, categories, parsed, t_hours=t_hours,
                                     depth_mm=depth_mm)
        at = np.asarray(keys, dtype=np.int64)
        return self.predict_rows(at, np.fromiter((p.found for p in parsed), dtype=bool,
                                                 count=len(at)),
                                 t_hours=t_hours, depth_mm=depth_mm)

    def predict_rows(self, at: np.ndarray, found: np.ndarray, *, t_hours: float,
                     depth_mm: float, columns=None) -> dict[str, np.ndarray]:
        """:meth:`predict` of the products whose model rows (``self.rows``' values) are ``at``
        and whose lists were read where ``found``, without looking their texts up (the
        prepared catalog knows its rows). ``columns``: the fit columns wanted (None: all;
        absorption's two columns are always there)."""
        if columns is None:
            got = self._mat[at]
            out = {c: got[:, j] for j, c in enumerate(self._names)}
        else:
            fit = self.fit
            out = {c: fit[c][at] for c in columns}
        n = len(at)
        index, x = np.full(n, np.nan), np.full(n, np.nan)
        out["absorption_index"] = index
        out["absorption_x_vs_intact"] = x
        if self.plan is not None:
            readable = np.flatnonzero(found)
            if len(readable):
                vals, xs = self._absorption(t_hours, depth_mm, at[readable].tolist())
                index[readable] = vals
                x[readable] = xs
        return out

    def _absorption(self, t_hours: float, depth_mm: float, rows: list[int]) -> tuple[list, list]:
        """The plan's (absorption_index, x_vs_intact) of ``rows`` at this time and depth, each
        row's pair kept: the products heading the lists are shown again and again at the
        usual days and depths, and the plan's answer for a row does not depend on the other
        rows asked with it (its sums run over its own terms). Kept per (time, depth), up to
        ABSORPTION_KEPT rows in all, the time and depth asked least recently given up first
        (one look-up of the time and depth per request, then one per row)."""
        kept, lock = self._abs_kept, self._abs_lock
        key = (t_hours, depth_mm)
        with lock:
            pairs = kept.get(key)
            if pairs is None:
                pairs = kept[key] = {}
            else:
                kept.move_to_end(key)
            got = [pairs.get(r) for r in rows]
        if None in got:
            missing = [j for j, v in enumerate(got) if v is None]
            vals, xs = self.plan.at(t_hours, depth_mm=depth_mm, rows=[rows[j] for j in missing])
            with lock:
                cur = kept.get(key)
                if cur is None:             # given up meanwhile (another thread's request)
                    kept[key] = pairs
                    self._abs_rows += len(pairs)
                elif cur is not pairs:      # ... and asked again: add to the one kept now
                    pairs = cur
                for j, v, x in zip(missing, vals.tolist(), xs.tolist(), strict=True):
                    r = rows[j]
                    if r not in pairs:
                        self._abs_rows += 1
                    got[j] = pairs[r] = (v, x)
                while self._abs_rows > ABSORPTION_KEPT and len(kept) > 1:
                    _key, old = kept.popitem(last=False)
                    self._abs_rows -= len(old)
        return [v for v, _x in got], [x for _v, x in got]


class _SafetyTable:
    """Every product's time-free assessment for one (protocol, factor, modality, pregnancy)."""

    def __init__(self, pc: PreparedCatalog, safety, protocol):
        n = len(pc)
        self.avoid_end = np.zeros(n)
        self.caution_end = np.zeros(n)
        prod, pw, sev_avoid, end = [], [], [], []
        for i in range(n):
            a = assess(pc.parsed[i], safety, protocol, name=pc.names[i], category=pc.cats[i])
            self.avoid_end[i] = a.avoid_end
            self.caution_end[i] = a.caution_end
            for f in a.flags:
                if f.scope != "ingredient":
                    continue
                prod.append(i)
                pw.append(position_weight(f.position))
                sev_avoid.append(any(s == "avoid" for s, _ in f.stages))
                end.append(f.stages[-1][1])
        self.flag_prod = np.asarray(prod, dtype=np.int64)
        self.flag_pw = np.asarray(pw, dtype=float)
        self.flag_avoid = np.asarray(sev_avoid, dtype=bool)
        self.flag_end = np.asarray(end, dtype=float)
        # every comparison estimate makes with t is against one of these (and as a list:
        # bisect finds a request's interval without numpy's per-call cost)
        self.ends = np.unique(np.concatenate([self.flag_end, self.avoid_end, self.caution_end]))
        self.ends_list = self.ends.tolist()
        # the estimate's never_safe and safe_from_day with the table's own avoid ends, the
        # same for every request (read-only: the estimates of all requests share them)
        self.never = np.isinf(self.avoid_end)
        self.safe_from_day = np.where(self.never, np.nan, self.avoid_end)
        self.never.setflags(write=False)
        self.safe_from_day.setflags(write=False)

    def timed(self, t: float, weights, avoid_end: np.ndarray) -> tuple[np.ndarray, ...]:
        """(verdict codes at t, verdict codes when safe, keep now, keep when safe) per
        product, for these avoid ends (the table's own, or with the person's avoid-list)."""
        n = len(avoid_end)
        never = np.isinf(avoid_end)
        x_safe = np.where(never, t, np.maximum(t, avoid_end))
        return (_verdict_codes(t, avoid_end, self.caution_end).astype(np.int8),
                _verdict_codes(x_safe, avoid_end, self.caution_end).astype(np.int8),
                self.keep(t, weights, n), self.keep(x_safe, weights, n))

    def _logs(self, weights) -> tuple[np.ndarray, np.ndarray]:
        """Per flag, log(1 - min(1, severity w(pos))) when open and the same with the closed
        flag weight, for these weights (cached: the same weights come with every request)."""
        got = getattr(self, "_log_cache", None)
        if got is None or got[0] is not weights:
            base = np.where(self.flag_avoid, weights.severity_avoid,
                            weights.severity_caution) * self.flag_pw
            with np.errstate(divide="ignore"):
                log_open = np.log(1.0 - np.minimum(1.0, base))
                log_closed = np.log(1.0 - np.minimum(1.0, base * weights.closed_flag_weight))
            got = self._log_cache = (weights, log_open, log_closed)
        return got[1], got[2]

    def keep(self, at: np.ndarray | float, weights, n: int) -> np.ndarray:
        """prod(1 - min(1, severity w(pos) openness)) per product, openness judged at ``at``
        (one time for all, or one per product); as exp(sum(log)), so equal to the engine's
        product to rounding only (the estimate is approximate by design)."""
        if not len(self.flag_prod):
            return np.ones(n)
        log_open, log_closed = self._logs(weights)
        at_flag = at if np.isscalar(at) else at[self.flag_prod]
        logs = np.where(at_flag < self.flag_end, log_open, log_closed)
        return np.exp(np.bincount(self.flag_prod, weights=logs, minlength=n))


class PreparedCatalog:
    """One catalog, read once per process; see the module docstring."""

    def __init__(self, df: pd.DataFrame, *, columns: Mapping[str, str] | None = None,
                 source: str = "", demo: bool = False, reader=None, use_models: bool = True):
        self.columns = dict(columns or {})
        self.cols = resolve_columns(df.columns, self.columns)   # raises ColumnError
        frame = df.copy()
        if "input_row" not in frame.columns:
            frame["input_row"] = range(1, len(frame) + 1)
        id_col = next((c for c in ID_CANDIDATES if c in frame.columns), None)
        ids = frame[id_col] if id_col else frame["input_row"]
        frame["product_id"] = [str(r) if _missing(v) else str(v)
                               for v, r in zip(ids, frame["input_row"], strict=True)]
        self.frame = frame.reset_index(drop=True)
        self._n = len(self.frame)       # len(frame) asks pandas: a few times a request
        # What score_frame and the ranked items read, as plain objects (a narrow copy: taking
        # rows out of a wide Arrow-backed frame costs more than scoring them).
        from recommender.recommend import BRAND_CANDIDATES, PRICE_CANDIDATES

        keep = [c for c in (*self.cols.values(), "input_row", "product_id",
                            *PRICE_CANDIDATES, *BRAND_CANDIDATES, *self.columns.values())
                if c is not None and c in self.frame.columns]
        self._narrow = self.frame[list(dict.fromkeys(keep))].astype(object)
        self._narrow["input_row"] = self.frame["input_row"].astype("int64")
        self._narrow_cols = {c: self._narrow[c].to_numpy(dtype=object) for c in self._narrow.columns}
        # Each product's price as the ranked items and the budget read it (recommend._price:
        # the printed price parsed once per catalog, not per shown item and request; _price
        # of a parsed price is that price), unless its column is read as something else too.
        from recommender.recommend import ID_CANDIDATES as ITEM_IDS
        from recommender.recommend import _first, _price

        price_col = _first(self._narrow.columns, PRICE_CANDIDATES, self.columns.get("price"))
        other = {*self.cols.values(), "input_row", "product_id", *BRAND_CANDIDATES, *ITEM_IDS,
                 *(v for k, v in self.columns.items() if k != "price")}
        self._prices: np.ndarray | None = None
        if price_col is not None:
            parsed = [_price(v) for v in self._narrow_cols[price_col]]
            self._prices = np.array([np.nan if v is None else v for v in parsed], dtype=float)
            self._prices.setflags(write=False)
            if price_col not in other:
                self._narrow_cols[price_col] = np.array(parsed, dtype=object)
        self.source = source
        self.demo = demo
        self._by_id: dict[str, int] = {}
        for i, pid in enumerate(self.frame["product_id"]):
            self._by_id.setdefault(pid, i)
        self._lock = threading.Lock()
        self._tables: OrderedDict = OrderedDict()
        self._uptakes: OrderedDict = OrderedDict()
        self._uptakes_seen: OrderedDict = OrderedDict()
        self._timed_kept: OrderedDict = OrderedDict()
        self._assessments: OrderedDict = OrderedDict()
        self._parts = SafetyParts(PARTS_KEPT)
        self._hits_kept: OrderedDict = OrderedDict()
        self._fit_terms: OrderedDict = OrderedDict()
        self._badges_kept: dict[int, tuple] = {}
        self._prepare(reader, use_models)

    # -- the person-independent part -------------------------------------------------------
    def _prepare(self, reader, use_models: bool) -> None:
        if reader is None:
            from recommender.knowledge.reader import default_reader

            reader = default_reader()
        f, c = self.frame, self.cols
        n = len(f)
        self.texts = [_text(v) for v in f[c["ingredients"]].tolist()]
        self.names = [_opt_text(v) for v in f[c["name"]].tolist()] if c["name"] else [None] * n
        self.cats = [_opt_text(v) for v in f[c["category"]].tolist()] if c["category"] \
            else [None] * n
        distinct = list(dict.fromkeys(self.texts))
        read_all = getattr(reader, "read_many", None)
        got = read_all(distinct) if read_all else [reader.read(t) for t in distinct]
        cache: dict = dict(zip(distinct, got, strict=True))
        self.parsed = [cache[t] for t in self.texts]
        self.reader = _CachedReader(reader, cache)
        self.found = np.fromiter((p.found for p in self.parsed), dtype=bool, count=n)
        self.unread_rows = np.flatnonzero(~self.found)    # the estimate's NaN rows
        self.row = f["input_row"].to_numpy(dtype=np.int64)
        n_ing = np.fromiter((len(p.ingredients) for p in self.parsed), dtype=float, count=n)
        # each product's unrecognised names (read-only; score_columns would rebuild them)
        self.unrec = [tuple(p.unrecognized) for p in self.parsed]
        n_unrec = np.fromiter((len(u) for u in self.unrec), dtype=float, count=n)
        from recommender.recommend import MAX_UNRECOGNIZED_SHARE

        status_ok = np.fromiter((p.status == "ok" for p in self.parsed), dtype=bool, count=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(n_ing > 0, n_unrec / np.where(n_ing > 0, n_ing, 1), np.nan)
        self.ok = status_ok & (share <= MAX_UNRECOGNIZED_SHARE)

        base_models = default_models(use_models)
        cats = [x or "" for x in self.cats]
        fit = {col: np.full(n, np.nan) for col in (*CONCERN_COLUMNS, *SKIN_COLUMNS, "gentleness")}
        idx = np.flatnonzero(self.found)
        if len(idx):
            got = base_models.predict_fit([self.texts[i] for i in idx], [cats[i] for i in idx],
                                          [self.parsed[i] for i in idx])
            for col, v in got.items():
                fit[col][idx] = v
        self.fit = fit
        rows = {}
        for i, key in enumerate(zip(self.texts, cats, strict=True)):
            rows.setdefault(key, i)
        self.models = _CachedModels(base_models, rows, fit)
        # each row's model row (the first of its text and category: _CachedModels.predict)
        self._model_row = np.fromiter((rows[k] for k in zip(self.texts, cats, strict=True)),
                                      dtype=np.int64, count=n)
        self.concern_mat = np.column_stack([fit[col] for col in CONCERN_COLUMNS])

        self._benefit: dict[int, tuple] = {}

        # Absorption: every product's terms, evaluated for the shown rows at each request's
        # time and depth (absorption.AbsorptionPlan), and the x-vs-intact terms the ranking
        # estimate uses for all products (the plan's modelled-intact pairs).
        self.has_absorption = base_models.has_absorption
        if self.has_absorption:
            from recommender.learn.absorption import AbsorptionPlan

            plan = AbsorptionPlan([p if p.found else None for p in self.parsed])
            self.models.plan = plan
            pair_row = np.repeat(np.arange(n, dtype=np.int64), plan.lengths)
            sel = plan.model[plan.pair_key]
            self.up_prod = pair_row[sel]
            self.up_w = plan.pair_w[sel]
            self.up_wsum = np.bincount(self.up_prod, weights=self.up_w, minlength=n)
            # _uptake_at's divisor (1 where a product has no terms) and those products
            self.up_div = np.where(self.up_wsum > 0, self.up_wsum, 1)
            self.up_none = np.flatnonzero(~(self.up_wsum > 0))
            # the terms' few distinct (channel, intact) pairs, and which product weighs
            # which how much: a request takes the log of ~700 ratios, not of ~110k terms
            keys, which = np.unique(plan.pair_key[sel], return_inverse=True)
            self.up_ratio = plan.channel[keys] / plan.intact[keys]
            self.up_mat = sparse.csr_matrix((self.up_w, (self.up_prod, which)),
                                            shape=(n, len(keys)))

        # Avoid-list index: the identities the engine's _avoid_match compares.
        self._avoid_index: dict[tuple[bool, bool], dict[str, set]] = {}

    def _avoid_idx(self, count_may: bool, names: bool):
        """product rows by class id, by INCI identity (and, when asked, by folded printed
        name): the identities ``_avoid_match`` compares."""
        key = (count_may, names)
        got = self._avoid_index.get(key)
        if got is None:
            index: dict[str, set] = {}
            for i, p in enumerate(self.parsed):
                for m in p.ingredients:
                    if m.section == "may_contain" and not count_may:
                        continue
                    if names:
                        for text in (m.raw, m.name, m.inci or "", *m.alternatives):
                            index.setdefault(fold_name(text), set()).add(i)
                        continue
                    for cl in m.classes:
                        index.setdefault("class:" + cl, set()).add(i)
                    if m.name:
                        index.setdefault(" ".join(m.name.upper().split()), set()).add(i)
                    if m.inci:
                        index.setdefault(" ".join(m.inci.upper().split()), set()).add(i)
            got = self._avoid_index[key] = index
        return got

    def _avoid_hits(self, avoid, protocol) -> np.ndarray:
        """Per product, does it hold an item of this avoid-list (read-only; the last
        AVOID_HITS_KEPT lists' answers are kept: requests repeat the common lists)."""
        count_may = protocol.may_contain_counts
        key = (count_may, avoid_key(avoid))
        with self._lock:
            got = self._hits_kept.get(key)
        if got is not None:
            return got
        hit = np.zeros(len(self), dtype=bool)
        ids = self._avoid_idx(count_may, False)
        rows: set = set()
        for cl in avoid.classes:
            rows |= ids.get("class:" + cl, set())
        for ident in avoid.inci:
            rows |= ids.get(ident, set())
        if avoid.names:
            by_name = self._avoid_idx(count_may, True)
            for key_name in avoid.names:
                rows |= by_name.get(key_name, set())
        if rows:
            hit[list(rows)] = True
        hit.setflags(write=False)
        with self._lock:
            self._hits_kept[key] = hit
            while len(self._hits_kept) > AVOID_HITS_KEPT:
                self._hits_kept.popitem(last=False)
        return hit

    def warm(self, protocol=None, depths=(0.25, 1.0, 1.5), modalities=None,
             pregnant=(False, True)) -> None:
        """Build the safety tables requests need (every modality of the protocol by default)
        the avoid-list indexes and the benefit terms; the web app calls this once before its workers fork, so
        they share them and no request pays for a cold table."""
        from recommender.safety import Context

        proto = protocol if protocol is not None else ScoreContext().active_protocol
        for d in depths:
            for mod in (modalities if modalities is not None else tuple(proto.modalities)):
                for preg in pregnant:
                    self._table(ScoreContext(safety=Context(depth_mm=d, modality=mod,
                                                            pregnant=preg), protocol=protocol))
        self._avoid_idx(proto.may_contain_counts, False)
        self._avoid_idx(proto.may_contain_counts, True)
        self._benefit_raw(ScoreContext().weights)

    def _benefit_raw(self, weights) -> np.ndarray:
        return self._benefits(weights)[1]

    def _benefits(self, weights) -> tuple[list, np.ndarray]:
        """Per product, its :func:`~recommender.scoring.frame.benefit_part` and the benefit
        term before absorption, for these weights (person-independent; score_columns'
        ``benefits``)."""
        got = self._benefit.get(id(weights))
        if got is None or got[0] is not weights:
            parts = [benefit_part(p.ingredients, weights) if p.found else None
                     for p in self.parsed]
            raw = np.array([bp.term if bp is not None else 0.0 for bp in parts])
            got = self._benefit[id(weights)] = (weights, parts, raw)
        return got[1], got[2]

    def _table(self, ctx: ScoreContext) -> tuple[_SafetyTable, bool]:
        """The safety table for this context and whether the avoid-list is applied outside it."""
        protocol = ctx.active_protocol
        safety = ctx.safety
        rules = [r for r in protocol.rules if r.scope == "avoid_list"
                 and (r.when is None or (r.when == "pregnant" and safety.pregnant))]
        never = all(any(s.severity == "avoid" and math.isinf(s.until) for s in r.stages)
                    for r in rules)
        outside = bool(safety.avoid) and never
        key = (id(protocol), protocol.factor(safety.depth_mm, safety.modality), safety.modality,
               safety.pregnant,
               None if outside or not safety.avoid else repr(sorted(safety.avoid.to_dict().items())))
        with self._lock:
            got = self._tables.get(key)
            if got is not None and got[0] is protocol:
                self._tables.move_to_end(key)
                return got[1], outside
        table = _SafetyTable(self, replace(safety, avoid=EMPTY_AVOID) if outside else safety,
                             protocol)
        with self._lock:
            self._tables[key] = (protocol, table)
            while len(self._tables) > SAFETY_TABLES_KEPT:
                self._tables.popitem(last=False)
        return table, outside

    # -- lookups ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    def product(self, product_id) -> dict | None:
        i = self._by_id.get(str(product_id))
        if i is None:
            return None
        return {k: (None if _missing(v) else v) for k, v in self.frame.iloc[i].items()}

    def rows_for(self, product_ids: Iterable) -> list[int]:
        """Row positions of the given ids; raises KeyError naming the first unknown id."""
        out = []
        for pid in product_ids:
            i = self._by_id.get(str(pid))
            if i is None:
                raise KeyError(f"no product with id {pid!r} in {self.source or 'the catalog'}")
            out.append(i)
        return out

    def score(self, context=None, product_ids: Iterable | None = None) -> pd.DataFrame:
        """score_frame rows for the given products (all when None), from the prepared reads."""
        ctx = ScoreContext.coerce(context)
        part = self.frame if product_ids is None else self.frame.iloc[self.rows_for(product_ids)]
        return self._score_rows(part, ctx)


    def _score_rows(self, part: pd.DataFrame, ctx: ScoreContext) -> pd.DataFrame:
        models = self.models if ctx.use_models else default_models(False)
        return score_frame(part, ctx, columns=self.columns, models=models, reader=self.reader)

    def _score_columns(self, rows: np.ndarray, ctx: ScoreContext,
                       only=None) -> dict[str, list]:
        """What ``_score_rows(self._narrow.iloc[rows], ctx)`` holds, as columns of plain
        values, without building a frame: score_frame's own core (``score_columns``) on the
        prepared reads, plus the narrow input columns. The JSON columns hold lists (they
        end in a JSON answer: no text to decode again). Each row's safety part comes from
        the kept ones (recommender.scoring.kept), its benefit part from the prepared ones.
        ``only``: the scored columns wanted (None: all; the narrow input columns always)."""
        models = self.models if ctx.use_models else default_models(False)
        at = rows.tolist()
        parts = self._benefits(ctx.weights)[0]
        safety = ctx.safety
        hits = self._avoid_hits(safety.avoid, ctx.active_protocol) if safety.avoid else None
        learned = None
        if models is self.models:
            # the models' columns by row (what models.predict finds by text and category),
            # only those score_columns reads or is asked for
            need = learned_columns(ctx, only)
            learned = models.predict_rows(
                self._model_row[rows], self.found[rows], t_hours=safety.hours,
                depth_mm=safety.depth_mm,
                columns=None if only is None else [c for c in models.fit if c in need])
        data = score_columns([self.texts[i] for i in at], [self.names[i] for i in at],
                             [self.cats[i] for i in at], ctx, models=models,
                             reader=self.reader, badges=self._badges(ctx)[rows].tolist(),
                             safety_parts=self._parts.getter(ctx, at,
                                                             self._assessor(at, ctx, hits), hits),
                             as_lists=True, benefits=[parts[i] for i in at], only=only,
                             unrecognized=[self.unrec[i] for i in at],
                             parsed=[self.parsed[i] for i in at], learned=learned,
                             plain=True)
        out = {c: v[rows].tolist() for c, v in self._narrow_cols.items()}
        out.update(data)
        return out

    def _assessor(self, at: list[int], ctx: ScoreContext, hits: np.ndarray | None = None):
        """(i, parsed) -> the assessment of product ``at[i]`` for ``ctx``: a kept assessment
        of the same product, protocol, modality and pregnancy after another treatment depth
        or at another day, rescaled (``rescale``: the same products head the lists of many
        requests), else a fresh ``assess`` (then kept). ``hits[row]``: product ``row`` holds
        an item of the person's avoid-list; the others share the assessments made without
        one (the avoid-list adds flags only to the mentions it names)."""
        safety, protocol = ctx.safety, ctx.active_protocol
        base = (id(protocol), safety.modality, safety.pregnant)
        with_avoid = (*base, avoid_key(safety.avoid))
        kept, lock = self._assessments, self._lock

        def get(i: int, parsed):
            row = at[i]
            key = (with_avoid if hits is None or hits[row] else (*base, None), row)
            with lock:
                a = kept.get(key)
            if a is not None and a.protocol is protocol:
                return a if a.context == safety else rescale(a, safety)
            a = assess(parsed, safety, protocol, name=self.names[row], category=self.cats[row])
            with lock:
                kept[key] = a
                while len(kept) > ASSESSMENTS_KEPT:
                    kept.popitem(last=False)
            return a

        return get

    def _badges(self, ctx: ScoreContext) -> np.ndarray:
        """post_procedure_friendly for every product (person-independent: safe_from_day <= 1
        at 1.0 mm mn under the active protocol), from that context's safety table; kept per
        protocol (read-only): every request asked for it anew."""
        protocol = ctx.active_protocol
        got = self._badges_kept.get(id(protocol))
        if got is not None and got[0] is protocol:
            return got[1]
        table, _outside = self._table(ScoreContext(safety=BADGE_CONTEXT, protocol=ctx.protocol))
        badges = self.found & (table.avoid_end <= 1.0)
        badges.setflags(write=False)
        with self._lock:
            remember(self._badges_kept, id(protocol), (protocol, badges), SAFETY_TABLES_KEPT)
        return badges

    # -- ranking ---------------------------------------------------------------------------
    def estimate(self, context=None, *, with_verdicts: bool = True) -> dict[str, np.ndarray]:
        """Verdict (and its code: 0 suitable, 1 caution, 2 avoid), never_safe, safe_from_day
        exactly; score, score_when_safe and benefit approximately (float order), for every
        product at once. ``with_verdicts=False``: the codes only (the verdict texts of 10k
        products cost ~80 us and recommend does not read them)."""
        ctx = ScoreContext.coerce(context)
        safety, w = ctx.safety, ctx.weights
        table, outside = self._table(ctx)
        code, code_later, keep_now, keep_later, scale, scale_later = \
            self._timed(table, safety.t, w)
        never, sfd = table.never, table.safe_from_day
        if outside:
            # the hit products' avoid end is infinite: never safe, no safe-from day, avoid
            # now (gate 0 where read), no score when safe
            hits = self._avoid_hits(safety.avoid, ctx.active_protocol)
            code, code_later, keep_later = _with_avoid(hits, code, code_later, keep_now,
                                                       keep_later)
            never = never | hits
            sfd = np.where(hits, np.nan, sfd)
            scale = np.where(hits & self.found, 0.0, scale)
            scale_later = np.where(hits, np.nan, scale_later)

        use_models = ctx.use_models and self.models.base is default_models(True)
        # sum of w_k v_k and of w_k over the terms known for each product (the benefit's
        # and gentleness's first, kept per time and depth); low_risk (always known) is added
        # per score below.
        num, den, benefit_out = self._benefit_now(safety, w, use_models)
        terms = []
        if use_models:
            if ctx.concerns:
                terms.append(self._fit_term(w, "concern_fit", tuple(
                    CONCERN_COLUMNS.index(f"concern_{c}") for c in ctx.concerns)))
            if ctx.skin_types:
                terms.append(self._fit_term(w, "skin_fit", tuple(
                    SKIN_COLUMNS.index(f"skin_{s}") for s in ctx.skin_types)))
        if terms:
            # the first sum is new (the kept arrays are read-only), the others add in place:
            # the same sums in the same order
            num, den = num + terms[0][0], den + terms[0][1]
            for add_num, add_den in terms[1:]:
                num += add_num
                den += add_den
        dn = den + w.low_risk

        def combine(low_risk: np.ndarray, scale: np.ndarray) -> np.ndarray:
            # num + w.low_risk * low_risk, in one new array (a sum and a product commute
            # bit for bit), then in place
            raw = np.multiply(low_risk, w.low_risk)
            raw += num
            if w.low_risk > 0:                  # den >= 0: every dn > 0
                np.divide(raw, dn, out=raw)
            else:
                with np.errstate(invalid="ignore", divide="ignore"):
                    raw = np.where(dn > 0, raw / np.where(dn > 0, dn, 1), 0.0)
            np.clip(raw, 0, 1, out=raw)
            raw *= scale                        # the verdict's gate x 100, NaN: no score
            return np.round(raw, 1, out=raw)

        score = combine(keep_now, scale)
        when_safe = combine(keep_later, scale_later)
        out = {"verdict_code": code, "never_safe": never, "safe_from_day": sfd,
               "score": score, "score_when_safe": when_safe, "benefit": benefit_out}
        if with_verdicts:
            out = {"verdict": VERDICTS[code], **out}
        return out

    def _fit_term(self, weights, term: str, cols: tuple) -> tuple[np.ndarray, np.ndarray]:
        """A learned term's share of every product's weighted mean: (w v, w) where known,
        (0, 0) where not; v is gentleness, or the mean of the person's concern (skin type)
        columns ``cols``. Person-independent but for the columns chosen: gentleness and
        the single concerns and skin types (a few, asked again and again) are kept, the
        last FIT_TERMS_KEPT of them; a mean of several columns is not."""
        key = (id(weights), term, cols)
        keep = len(cols) <= 1
        with self._lock:
            got = self._fit_terms.get(key) if keep else None
            if got is not None and got[0] is weights:
                self._fit_terms.move_to_end(key)
                return got[1], got[2]
        if term == "gentleness":
            v = self.fit["gentleness"].copy()
        else:
            # the mean of contiguous columns (a strided mean over the matrix is 5x the time;
            # the sum's order may differ in the last bit: the estimate is approximate)
            names = CONCERN_COLUMNS if term == "concern_fit" else SKIN_COLUMNS
            v = self.fit[names[cols[0]]].copy()
            for j in cols[1:]:
                v += self.fit[names[j]]
            if len(cols) > 1:
                v /= len(cols)
        # where(known, w v, 0) and where(known, w, 0), the first in place on the copy
        wk = getattr(weights, term)
        nan = np.isnan(v)
        v *= wk
        v[nan] = 0.0
        add_num, add_den = v, np.where(nan, 0.0, wk)
        if not keep:
            return add_num, add_den
        add_num.setflags(write=False)
        add_den.setflags(write=False)
        with self._lock:
            self._fit_terms[key] = (weights, add_num, add_den)
            while len(self._fit_terms) > FIT_TERMS_KEPT:
                self._fit_terms.popitem(last=False)
        return add_num, add_den

    def _timed(self, table: _SafetyTable, t: float, weights) -> tuple[np.ndarray, ...]:
        """``table.timed`` with the table's own avoid ends, kept per interval of t between
        the table's distinct ends (t < end and max(t, avoid end) < end, every comparison the
        answer rests on, are the same for every t of one interval): a day's answers serve
        every hour of that stretch. The last TIMED_KEPT are kept. Followed by what the
        estimate multiplies the clipped weighted means by, now and when safe: 100 x the
        verdict's gate (1, the caution factor, 0), NaN where the score is NaN (unread; when
        safe, never safe too)."""
        key = (id(table), bisect.bisect_right(table.ends_list, t), id(weights))
        with self._lock:
            got = self._timed_kept.get(key)
            if got is not None and got[0] is table and got[1] is weights:
                self._timed_kept.move_to_end(key)
                return got[2]
        ans = table.timed(t, weights, table.avoid_end)
        gates100 = 100.0 * np.array([1.0, weights.caution_factor, 0.0])
        scale, scale_later = gates100[ans[0]], gates100[ans[1]]
        scale[self.unread_rows] = np.nan
        scale_later[self.unread_rows] = np.nan
        scale_later[table.never] = np.nan
        ans = (*ans, scale, scale_later)
        for a in ans:
            a.setflags(write=False)
        with self._lock:
            self._timed_kept[key] = (table, weights, ans)
            while len(self._timed_kept) > TIMED_KEPT:
                self._timed_kept.popitem(last=False)
        return ans

    def _benefit_now(self, safety, weights, use_models: bool) -> tuple[np.ndarray, ...]:
        """The benefit term's share of every product's weighted mean at this time and depth
        (w b, and w where b is known), plus gentleness's with the models (every estimate
        adds it first), and the benefit itself as the estimate gives it (rounded to 4
        places, NaN where unread): person-independent but for the fraction of channels
        still open (``f_now``: time and depth) and the weights. Kept (read-only) for the
        UPTAKE_KEPT most recently asked (f_now, weights), each kept from the second time it is
        asked among the last UPTAKE_SEEN not kept: most people ask about whole days after the
        usual depths, and a time asked once (2.37 days after 1.23 mm) must not push those
        out."""
        f_now = None
        if use_models and self.has_absorption and len(self.up_prod):
            from recommender.learn.absorption import LN2, t_half_hours

            f_now = math.exp(-LN2 * safety.hours / t_half_hours(safety.depth_mm))
        key = (f_now, id(weights), use_models)
        kept = self._uptakes
        with self._lock:
            got = kept.get(key)
            if got is not None and got[0] is weights:
                kept.move_to_end(key)
                return got[1]
        x = np.full(len(self), np.nan) if f_now is None else self._uptake_at(f_now)
        fl = weights.absorption_floor
        # where(isnan(x) | (x < 1), 1, fl + (1 - fl) (1 - 1 / x)), the same operations in
        # place (products and sums commute bit for bit)
        with np.errstate(invalid="ignore", divide="ignore"):
            benefit = np.divide(1.0, x)
            np.subtract(1.0, benefit, out=benefit)
            benefit *= 1.0 - fl
            benefit += fl
        benefit[np.isnan(x) | (x < 1.0)] = 1.0
        benefit *= self._benefit_raw(weights)
        # (w b, w where b is known, b rounded and NaN where unread); the raw term is in
        # [0, 1] (benefit_term) and the delivered share finite: NaN is the only value
        # nan_to_num would change
        nan = np.isnan(benefit)
        w_b = np.where(nan, 0.0, benefit)
        w_b *= weights.benefit
        w_known = np.where(nan, 0.0, weights.benefit)
        if use_models:
            add_num, add_den = self._fit_term(weights, "gentleness", ())
            w_b += add_num
            w_known += add_den
        np.round(benefit, 4, out=benefit)
        benefit[self.unread_rows] = np.nan
        ans = (w_b, w_known, benefit)
        for a in ans:
            a.setflags(write=False)
        with self._lock:
            seen = self._uptakes_seen
            if key in seen:
                del seen[key]
                kept[key] = (weights, ans)
                while len(kept) > UPTAKE_KEPT:
                    kept.popitem(last=False)
            else:
                seen[key] = None
                while len(seen) > UPTAKE_SEEN:
                    seen.popitem(last=False)
        return ans

    def _uptake(self, hours: float, depth_mm: float) -> np.ndarray:
        """x vs intact skin of every product at ``hours`` after a ``depth_mm`` treatment (see
        the catalog's AbsorptionPlan)."""
        from recommender.learn.absorption import LN2, t_half_hours

        return self._uptake_at(math.exp(-LN2 * hours / t_half_hours(depth_mm)))

    def _uptake_at(self, f_now: float) -> np.ndarray:
        """:meth:`_uptake` for a fraction of channels still open."""
        # 10 ** (sum w log10(.) / sum w) as exp(sum w ln(.) / sum w): numpy's natural log is
        # vectorised, its log10 is not; taken once per distinct ratio, summed per product
        # by a sparse product (1.5 -> 0.3 ms at 10k products; the estimate is approximate
        # by design: the order of the sums may differ from the model's)
        # in place: s / where(wsum > 0, wsum, 1), exp, NaN where no terms
        x = self.up_mat @ np.log(1.0 + f_now * self.up_ratio)
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(x, self.up_div, out=x)
            np.exp(x, out=x)
        x[self.up_none] = np.nan
        return x

    def recommend(self, context=None, *, k: int = 10, budget: float | None = None,
                  strict: bool = False, with_flags: bool = False) -> dict:
        """``skinrec recommend --json`` over this catalog for one person (see module doc)."""
        from recommender.recommend import Recommender

        ctx = ScoreContext.coerce(context)
        rec = Recommender(ctx, k=k, budget=budget, strict=strict, columns=self.columns,
                          with_flags=with_flags)
        n = len(self)
        if n == 0:
            return rec.result()
        est = self.estimate(ctx, with_verdicts=False)
        never, code = est["never_safe"], est["verdict_code"]
        usable = self.ok & ~never
        now = usable & ((code == 0) if strict else (code <= 1))   # suitable[, caution]
        later = usable & (code == 2) & ~np.isnan(est["safe_from_day"])
        avoid = ~usable
        excluded = {"over_budget": 0, "no_price": 0}
        if budget is not None:
            prices = np.full(n, np.nan) if self._prices is None else self._prices
            no_price = np.isnan(prices)
            with np.errstate(invalid="ignore"):
                over = ~no_price & (prices > budget)
            for mask in (now, later):
                excluded["no_price"] += int((mask & no_price).sum())
                excluded["over_budget"] += int((mask & over).sum())
            now = now & ~no_price & ~over
            later = later & ~no_price & ~over
        picks = [
            candidate_rows(now, None, est["score"], self.row, k, SCORE_MARGIN),
            candidate_rows(later, est["safe_from_day"], est["score_when_safe"], self.row, k,
                        SCORE_MARGIN),
            candidate_rows(avoid, ~never, est["benefit"], self.row, k, BENEFIT_MARGIN),
        ]
        rows = np.unique(np.concatenate(picks))
        if len(rows):
            rec.add_columns(self._score_columns(rows, ctx, rec.read_columns()), len(rows))
        rec.counts = {"use_now": int(now.sum()), "later": int(later.sum()),
                      "avoid": int(avoid.sum())}
        rec.rows = n
        if budget is not None:
            rec.excluded = excluded
        return rec.result()


VERDICTS = np.array(["suitable", "caution", "avoid"])


def _with_avoid(hits: np.ndarray, code: np.ndarray, code_later: np.ndarray,
                keep_now: np.ndarray, keep_later: np.ndarray) -> tuple[np.ndarray, ...]:
    """A safety table's timed answer (its own avoid ends) -> the answer with the person's
    avoid-list, whose rule never closes: ``table.timed(t, w, where(hits, inf, avoid_end))``
    without comparing every flag again. Only the products it hits change: never safe, so
    avoid now and on the day they become usable (codes 2), and that day is t itself, so
    their keep when safe is their keep now (the same comparisons of the same flags, summed
    in the same order). Returns (code, code_later, keep_later); keep_now is unchanged."""
    avoid = np.int8(2)
    return (np.where(hits, avoid, code), np.where(hits, avoid, code_later),
            np.where(hits, keep_now, keep_later))


def _verdict_codes(t, avoid_end: np.ndarray, caution_end: np.ndarray) -> np.ndarray:
    """0 suitable, 1 caution, 2 avoid (the engine's _verdict, per product)."""
    return np.where(t < avoid_end, 2, np.where(t < caution_end, 1, 0))


def candidate_rows(mask, group, s, row, k: int, margin: float) -> np.ndarray:
    """Rows of ``mask`` that can be among the first ``k`` ordered by (group ascending, s
    descending with NaN last, row ascending) when ``s`` is only known to within ``margin``.
    ``group`` is exact (numbers or booleans); None: one group for every row. The k-th in
    that order is found with partitions (linear), not a sort of every row."""
    idx = np.flatnonzero(mask)
    if len(idx) <= k:
        return idx
    v = s[idx]
    if group is None:
        ahead = same = None
        j, vs = k, v
    else:
        g = group[idx]
        gk = np.partition(g, k - 1)[k - 1]      # the k-th row's group
        ahead, same = g < gk, g == gk
        j = k - int(np.count_nonzero(ahead))    # its rank (1-based) inside that group
        vs = v[same]
    nan = np.isnan(vs)
    n_num = len(vs) - int(np.count_nonzero(nan))
    if j <= n_num:                              # the k-th row has a score: vk, j-th largest
        vk = np.partition(vs, n_num - j)[n_num - j]   # (a partition puts NaNs last)
        near = v >= vk - margin
    else:                                       # it has none: rows ascending among the NaNs
        r = row[idx]
        rk = np.partition((r if same is None else r[same])[nan], j - 1 - n_num)[j - 1 - n_num]
        near = ~np.isnan(v) | (r <= rk)
    if same is not None:
        near &= same
        near |= ahead
    return idx[near]


__all__ = ["PreparedCatalog", "candidate_rows"]
