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
from collections.abc import Iterable, Mapping, Sequence

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
    if isinstance(value, (int, float)):     # a tuple: no union object built per call
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



def _json_list(v) -> list:
    """A JSON list column's value: JSON text (score_frame) or already the list."""
    return v if isinstance(v, list) else json.loads(v or "[]")

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
        self.kept: dict[str, list[tuple[tuple, dict, tuple]]] = {name: [] for name in LISTS}
        self.counts = {name: 0 for name in LISTS}
        self.excluded = {"over_budget": 0, "no_price": 0}
        self.rows = 0
        self.price_col: str | None = None
        self._resolved: dict[tuple, tuple] = {}

    def add(self, scored: pd.DataFrame) -> None:
        """One scored chunk (score_frame's output)."""
        if len(scored):
            self.add_columns({c: scored[c].tolist() for c in scored.columns}, len(scored))

    def add_columns(self, cols: Mapping[str, Sequence], n: int) -> None:
        """One scored chunk as columns (name -> n values: score_frame's columns plus the
        input's), as :func:`recommender.scoring.frame.score_columns` gives them. Only the
        rows that make a list's first k become row dicts."""
        if not n:
            return
        self.rows += n
        # which list each row is for, in plain Python (a chunk of a web request is ~30 rows:
        # numpy's fixed cost per array would be most of the time)
        status, n_ing, n_unrec = cols["status"], cols["n_ingredients"], cols["n_unrecognized"]
        verdict, sfd = cols["verdict"], cols["safe_from_day"]
        never = [bool(v) for v in cols["never_safe"]]
        usable = ("suitable",) if self.strict else ("suitable", "caution")
        now: list[int] = []
        later: list[int] = []
        avoid: list[int] = []
        for i in range(n):
            ni = float(n_ing[i])
            # a readable list with at most MAX_UNRECOGNIZED_SHARE of its names unknown
            ok = status[i] == "ok" and ni > 0 and \
                float(n_unrec[i]) / ni <= MAX_UNRECOGNIZED_SHARE
            if never[i] or not ok:
                avoid.append(i)
            elif verdict[i] in usable:
                now.append(i)
            elif verdict[i] == "avoid" and not _missing_number(sfd[i]):
                later.append(i)
        if self.budget is not None:
            self.price_col = _first(cols.keys(), PRICE_CANDIDATES, self.columns.get("price"))
            prices = [None] * n if self.price_col is None else \
                [_price(v) for v in cols[self.price_col]]
            no_price = [v is None for v in prices]
            over = [v is not None and v > self.budget for v in prices]
            for rows in (now, later):
                self.excluded["no_price"] += sum(no_price[i] for i in rows)
                self.excluded["over_budget"] += sum(over[i] for i in rows)
            now = [i for i in now if not no_price[i] and not over[i]]
            later = [i for i in later if not no_price[i] and not over[i]]
        row = cols["input_row"]
        score, when_safe = cols["post_needling_score"], cols["score_when_safe"]
        benefit = cols["benefit_term"]
        keys = {
            "use_now": lambda i: (_desc(score[i]), row[i]),
            "later": lambda i: (_asc(sfd[i]), _desc(when_safe[i]), row[i]),
            "avoid": lambda i: (not never[i], _desc(benefit[i]), row[i]),
        }
        names = self._item_columns(cols.keys())
        picked = [(c, cols[c]) for c in names]
        # the input columns the items name, resolved once for the rows of this chunk
        inputs = self._input_columns(tuple(names))
        for name, idx in (("use_now", now), ("later", later), ("avoid", avoid)):
            self.counts[name] += len(idx)
            if not idx:
                continue
            key = keys[name]
            top = sorted(idx, key=key)[:self.k]           # stable: ties keep input order
            part = [(key(i), {c: v[i] for c, v in picked}, inputs) for i in top]
            # previously kept rows first on ties (as a stable sort of the concatenation)
            self.kept[name] = sorted(self.kept[name] + part, key=lambda e: e[0])[:self.k]

    # the scored columns _item reads, besides the input's id, name, brand, category and price
    ITEM_COLUMNS = ("input_row", "post_needling_score", "score_when_safe", "verdict",
                    "safe_from_day", "never_safe", "post_procedure_friendly", "flags",
                    "reasons_for", "reasons_against", "n_unrecognized", "n_ingredients",
                    "status")

    def read_columns(self) -> frozenset[str]:
        """Every column add_columns and _item may read (a scorer that knows which it is
        asked for may leave the others out: the prepared catalog's score_columns call)."""
        return frozenset({*self.ITEM_COLUMNS, "benefit_term", *ID_CANDIDATES,
                          *BRAND_CANDIDATES, *PRICE_CANDIDATES, "name", "category",
                          *self.columns.values()})

    def _item_columns(self, present) -> list[str]:
        """The columns a kept row needs (what :meth:`_item` may read): a row dict of these
        instead of every input and output column (~70)."""
        wanted = {*self.ITEM_COLUMNS, *ID_CANDIDATES, *BRAND_CANDIDATES, *PRICE_CANDIDATES,
                  "name", "category", *self.columns.values()}
        return [c for c in present if c in wanted]

    def _input_columns(self, cols: tuple) -> tuple:
        """(id, name, brand, category, price) input columns of rows with these columns
        (resolved once per set of columns, not per item)."""
        got = self._resolved.get(cols)
        if got is None:
            got = self._resolved[cols] = (
                _first(cols, ID_CANDIDATES, self.columns.get("product_id")),
                self.columns.get("name") or ("name" if "name" in cols else None),
                _first(cols, BRAND_CANDIDATES, self.columns.get("brand")),
                self.columns.get("category") or ("category" if "category" in cols else None),
                _first(cols, PRICE_CANDIDATES, self.columns.get("price")))
        return got

    def _item(self, r: dict, which: str, inputs: tuple) -> dict:
        """One ranked item from a scored row (JSON columns as text, or as lists when scored
        with ``score_columns(..., as_lists=True)``); ``inputs``: its (id, name, brand,
        category, price) columns (:meth:`_input_columns` of the row's columns)."""
        id_col, name_col, brand_col, cat_col, price_col = inputs
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
            item["flags"] = _json_list(r["flags"])
            if "price" not in item:
                item["price"] = None if price_col is None else _price(r[price_col])
        against = _json_list(r["reasons_against"])
        pro = _json_list(r["reasons_for"])
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
            out[name] = [self._item(r, name, inputs) for _key, r, inputs in self.kept[name]]
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


def _missing_number(v) -> bool:
    """None or NaN (what np.isnan of the column's float array finds)."""
    return v is None or v != v


def _asc(v) -> tuple:
    """Sort key: ascending, NaN / None last (pandas' na_position="last")."""
    return (1, 0.0) if v is None or v != v else (0, v)


def _desc(v) -> tuple:
    """Sort key: descending, NaN / None last."""
    return (1, 0.0) if v is None or v != v else (0, -v)


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
