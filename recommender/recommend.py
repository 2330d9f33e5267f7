"""Recommendations for one person from one catalog: use now, later (from day N), avoid.

Answers the shopper's "I was needled yesterday at 1.0 mm, I have dark spots and dry skin:
what can I use now, what from day 3, what not at all?" over a catalog, from score_frame's
columns only (no rule is re-implemented here):

- ``use_now``: readable lists whose verdict at t is ``suitable`` or ``caution`` (caution
  items carry their caution as a reason and are scored down by the formula's caution
  factor; ``strict=True`` keeps ``suitable`` only), ranked by ``post_needling_score``. A
  product with an open avoid window (verdict ``avoid``) is never here: that is the
  safety contract, checked over whole real catalogs in tests/test_recommend.py.
- ``later``: verdict ``avoid`` now with a finite ``safe_from_day``, ranked by that day, then
  by ``score_when_safe`` (the score the product will have once usable).
- ``avoid``: never safe for this person (their avoid-list, retinoids in pregnancy), or
  cannot be checked: no readable ingredient list, or more than
  ``MAX_UNRECOGNIZED_SHARE`` of its ingredient names not recognised (a flag can only fire
  on a recognised name: "* Essential Oil" unrecognised would otherwise read "suitable"),
  with the reasons; ranked by what the person would otherwise have gained (benefit term),
  so the list shows the tempting ones.
- ``--budget``: products priced above it, or without a price, are left out of use_now and
  later (counted under ``excluded``).

Each item: product_id (or the input row number), name, score, verdict, safe_from_day,
reasons (plus row, brand, price, category when known). Memory stays bounded over a large
catalog: chunks are scored one at a time and only the best ``k`` per list are kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

import pandas as pd

from recommender import DISCLAIMER
from recommender.scoring import ScoreContext, default_models, score_frame

PRICE_CANDIDATES = ("price", "price_usd", "Price", "price_eur", "price_gbp")
ID_CANDIDATES = ("product_id", "id", "sku", "Product ID")
BRAND_CANDIDATES = ("brand", "brand_name", "Brand")
LISTS = ("use_now", "later", "avoid")
# A list with more unrecognised names than this share cannot be vouched for (design choice).
MAX_UNRECOGNIZED_SHARE = 0.25


def _first(columns, names: Iterable[str], mapped: str | None = None) -> str | None:
    if mapped:
        return mapped if mapped in columns else None
    for n in names:
        if n in columns:
            return n
    return None


def _price(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = str(value).strip().replace(",", ".")
    text = "".join(ch for ch in text if ch.isdigit() or ch == ".")
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _num(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


class Recommender:
    """Accumulates scored chunks; :meth:`result` gives the three ranked lists."""

    def __init__(self, ctx: ScoreContext, *, k: int = 10, budget: float | None = None,
                 strict: bool = False, columns: dict | None = None, with_flags: bool = False):
        if k < 1:
            raise ValueError("k must be at least 1")
        if budget is not None and (not math.isfinite(budget) or budget < 0):
            raise ValueError("budget must be a number >= 0")
        self.ctx = ctx
        self.k = k
        self.budget = budget
        self.strict = strict
        self.columns = dict(columns or {})
        self.with_flags = with_flags
        self.kept: dict[str, pd.DataFrame | None] = {name: None for name in LISTS}
        self.counts = {name: 0 for name in LISTS}
        self.excluded = {"over_budget": 0, "no_price": 0}
        self.rows = 0
        self.price_col: str | None = None

    def add(self, scored: pd.DataFrame) -> None:
        if not len(scored):
            return
        self.rows += len(scored)
        cols = scored.columns
        n_ing = scored["n_ingredients"].astype("float64")
        unknown_share = scored["n_unrecognized"].astype("float64") / n_ing.where(n_ing > 0)
        ok = (scored["status"] == "ok") & (unknown_share <= MAX_UNRECOGNIZED_SHARE)
        never = scored["never_safe"].astype(bool)
        verdict = scored["verdict"]
        allowed = ("suitable",) if self.strict else ("suitable", "caution")
        now = ok & ~never & verdict.isin(allowed)
        later = ok & ~never & (verdict == "avoid") & scored["safe_from_day"].notna()
        avoid = never | ~ok
        if self.budget is not None:
            self.price_col = _first(cols, PRICE_CANDIDATES, self.columns.get("price"))
            if self.price_col is None:
                prices = pd.Series([None] * len(scored), index=scored.index, dtype=object)
            else:
                prices = scored[self.price_col].map(_price)
            no_price = prices.isna()
            over = ~no_price & (prices.astype(float) > self.budget)
            for mask in (now, later):
                self.excluded["no_price"] += int((mask & no_price).sum())
                self.excluded["over_budget"] += int((mask & over).sum())
            now = now & ~no_price & ~over
            later = later & ~no_price & ~over
        for name, mask, keys, asc in (
            ("use_now", now, ["post_needling_score", "input_row"], [False, True]),
            ("later", later, ["safe_from_day", "score_when_safe", "input_row"], [True, False, True]),
            ("avoid", avoid, ["never_safe", "benefit_term", "input_row"], [False, False, True]),
        ):
            part = scored[mask]
            self.counts[name] += len(part)
            if not len(part):
                continue
            prev = self.kept[name]
            both = part if prev is None else pd.concat([prev, part])
            self.kept[name] = both.sort_values(keys, ascending=asc, na_position="last",
                                               kind="mergesort").head(self.k)

    def _item(self, r: dict, which: str) -> dict:
        cols = r.keys()
        id_col = _first(cols, ID_CANDIDATES, self.columns.get("product_id"))
        name_col = self.columns.get("name") or ("name" if "name" in cols else None)
        brand_col = _first(cols, BRAND_CANDIDATES, self.columns.get("brand"))
        cat_col = self.columns.get("category") or ("category" if "category" in cols else None)
        row = int(r["input_row"])
        pid = r[id_col] if id_col else None
        pid = None if pid is None or (isinstance(pid, float) and math.isnan(pid)) or pid == "" \
            else str(pid)
        score = _num(r["post_needling_score"])
        item = {
            "product_id": pid if pid is not None else row,
            "row": row,
            "name": None if not name_col else _s(r[name_col]),
            "brand": None if not brand_col else _s(r[brand_col]),
            "category": None if not cat_col else _s(r[cat_col]),
            "score": score,
            "verdict": r["verdict"],
            "safe_from_day": _num(r["safe_from_day"]),
            "never_safe": bool(r["never_safe"]),
            "post_procedure_friendly": bool(r["post_procedure_friendly"]),
        }
        if which == "later":
            item["score_when_safe"] = _num(r["score_when_safe"])
        if self.price_col:
            item["price"] = _price(r[self.price_col])
        if self.with_flags:
            item["flags"] = json.loads(r["flags"] or "[]")
            if "price" not in item:
                price_col = _first(cols, PRICE_CANDIDATES, self.columns.get("price"))
                item["price"] = None if price_col is None else _price(r[price_col])
        against = json.loads(r["reasons_against"] or "[]")
        pro = json.loads(r["reasons_for"] or "[]")
        if which == "use_now":
            item["reasons"] = pro + [f"caution: {x}" for x in against] if r["verdict"] == "caution" \
                else pro + against
        elif which == "later":
            sfd = item["safe_from_day"]
            item["reasons"] = [f"from day {sfd:g}"] + against
        else:
            reasons = list(against)
            n_unrec, n_all = int(r["n_unrecognized"]), int(r["n_ingredients"])
            if r["status"] == "ok" and n_all and n_unrec / n_all > MAX_UNRECOGNIZED_SHARE:
                reasons.insert(0, f"cannot be checked: {n_unrec} of {n_all} ingredient names "
                                  "not recognised; check the label with your provider")
            item["reasons"] = reasons or ["not usable for you"]
        return item

    def result(self) -> dict:
        out: dict = {}
        for name in LISTS:
            kept = self.kept[name]
            out[name] = [] if kept is None else [self._item(r, name) for r in _records(kept)]
        models = default_models(self.ctx.use_models)
        warnings = []
        if self.ctx.concerns and not models.has_concerns:
            warnings.append("the concern model is not available: --concerns did not change "
                            "the ranking (concern_model_version: unavailable)")
        if self.ctx.skin_types and not models.has_skin_types:
            warnings.append("the skin-type model is not available: --skin-type did not change "
                            "the ranking (skin_type_model_version: unavailable)")
        if self.budget is not None and self.price_col is None:
            warnings.append("no price column: with --budget nothing can be priced "
                            "(name it with --map price=COLUMN)")
        out["counts"] = {**self.counts, "rows": self.rows}
        out["excluded"] = dict(self.excluded) if self.budget is not None else {}
        out["context"] = self.ctx.to_dict()
        out["k"] = self.k
        out["budget"] = self.budget
        out["model_versions"] = models.versions
        out["warnings"] = warnings
        out["disclaimer"] = DISCLAIMER
        return out


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts, from one object array (DataFrame.to_dict/iterrows go row by row and
    column by column, ~1 ms a row on a wide frame)."""
    cols = list(df.columns)
    return [dict(zip(cols, row, strict=True)) for row in df.to_numpy(dtype=object).tolist()]


def _s(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return str(v)


def recommend(catalog: pd.DataFrame, context=None, *, k: int = 10, budget: float | None = None,
              strict: bool = False, columns: dict | None = None, chunk_rows: int = 5000,
              with_flags: bool = False) -> dict:
    """Rank an in-memory catalog for one person (tests and small catalogs; the web app uses
    a PreparedCatalog). ``with_flags``: each item also carries its flags (the score_frame
    ``flags`` column, parsed) and its price when the catalog has one."""
    ctx = ScoreContext.coerce(context)
    rec = Recommender(ctx, k=k, budget=budget, strict=strict, columns=columns,
                      with_flags=with_flags)
    df = catalog
    if "input_row" not in df.columns:
        df = df.copy()
        df["input_row"] = range(1, len(df) + 1)
    for start in range(0, len(df), chunk_rows):
        part = df.iloc[start:start + chunk_rows]
        rec.add(score_frame(part, ctx, columns=columns))
    return rec.result()
