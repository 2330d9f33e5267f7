"""The glue between a request and the library: one function per question a page or the API asks.

Answers, for both faces (``web.ui`` renders them, ``web.api`` returns them as JSON):
"what can I use now, later, never?" (:func:`recommend_for`), "is this list safe, why, and
from when?" (:func:`check_list`), "how do these products score for me?" (:func:`score_ids`,
:func:`score_products`), "find a product" (:func:`search`). Everything is computed by the
library (PreparedCatalog, score_frame, check, absorption); this module only adds dates
(safe-from date = treatment date + safe_from_day) and reshapes rows into plain JSON values.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta

import numpy as np
import pandas as pd

from recommender import DISCLAIMER
from recommender.check import check
from recommender.recommend import LISTS
from recommender.scoring import CONCERNS, score_frame
from web.errors import ApiError
from web.params import Person
from web.state import AppState

JSON_COLUMNS = ("flags", "reasons_for", "reasons_against", "unrecognized")
ROW_FIELDS = ("product_id", "name", "brand", "category", "price", "status", "verdict",
              "safe_from_day", "never_safe", "post_needling_score", "score_when_safe",
              "post_procedure_friendly", "reasons_for", "reasons_against", "flags",
              "n_ingredients", "n_unrecognized", "unrecognized", "gentleness",
              "absorption_index", "absorption_x_vs_intact", "protocol_name", "protocol_version")
TIMELINE_DAYS = 14
ABSORPTION_HOURS = tuple(float(h) for h in range(0, 97, 4))


def plain(v):
    """numpy / pandas scalars -> JSON values (NaN -> None)."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def catalog_info(state: AppState) -> dict:
    return {"source": state.catalog_label, "products": len(state.catalog), "demo": state.demo,
            "rejected_rows": state.rejected_rows}


def row_dict(row: pd.Series, person: Person) -> dict:
    """One score_frame row as the API shows it (JSON columns parsed, concerns grouped)."""
    out = {}
    for k in ROW_FIELDS:
        if k not in row.index:
            continue
        v = plain(row[k])
        if k in JSON_COLUMNS:
            v = json.loads(v) if isinstance(v, str) and v else []
        out[k] = v
    if "price" in out and out["price"] is not None:
        out["price"] = _price(out["price"])
    out["product_id"] = None if out.get("product_id") is None else str(out["product_id"])
    out["concerns"] = {c: plain(row.get(f"concern_{c}")) for c in CONCERNS}
    sfd = out.get("safe_from_day")
    out["safe_from_date"] = _iso(person.safe_from_date(sfd))
    return out


def _price(v) -> float | None:
    try:
        f = float(str(v).replace("$", "").replace(",", "").strip())
    except ValueError:
        return None
    return f if math.isfinite(f) else None


def _iso(d) -> str | None:
    return None if d is None else d.isoformat()


# ----------------------------------------------------------------------------- recommend


def recommend_for(state: AppState, person: Person, *, k: int = 10, budget: float | None = None,
                  strict: bool = False) -> dict:
    """``skinrec recommend --json`` over the loaded catalog, plus dates and each item's flags."""
    result = state.catalog.recommend(person.ctx, k=k, budget=budget, strict=strict,
                                     with_flags=True)
    dates: dict = {}            # safe_from_day -> its date (the items share a few days)
    for name in LISTS:
        for it in result[name]:
            it["product_id"] = str(it["product_id"])
            sfd = it.get("safe_from_day")
            if sfd not in dates:
                dates[sfd] = _iso(person.safe_from_date(sfd))
            it["safe_from_date"] = dates[sfd]
    result["person"] = person.to_dict()
    result["catalog"] = catalog_info(state)
    return result


# ----------------------------------------------------------------------------- score


def score_ids(state: AppState, person: Person, ids: list[str]) -> list[dict]:
    try:
        scored = state.catalog.score(person.ctx, ids)
    except KeyError as exc:
        raise ApiError(404, str(exc.args[0])) from None
    return [row_dict(r, person) for _, r in scored.iterrows()]


def score_products(person: Person, products: list[dict]) -> list[dict]:
    """Products given inline ({"ingredients", "name", "category", "product_id"}) via score_frame."""
    df = pd.DataFrame([{"product_id": p.get("product_id"), "name": p.get("name"),
                        "category": p.get("category"), "ingredients": p["ingredients"]}
                       for p in products])
    scored = score_frame(df, person.ctx)
    return [row_dict(r, person) for _, r in scored.iterrows()]


# ----------------------------------------------------------------------------- check


def check_list(state: AppState, person: Person, text: str, *, name: str | None = None,
               category: str | None = None, with_models: bool = True):
    """Check one list: returns (CheckResult, dict). The dict is the check --json contract plus
    ``safe_from_date``, ``daily`` (verdict for each of the next 14 days) and the actives'
    absorption curves."""
    result = check(text, person.ctx.safety, person.ctx.active_protocol, name=name,
                   category=category, with_models=with_models)
    out = result.to_dict()
    out["safe_from_date"] = _iso(person.safe_from_date(out.get("safe_from_day")))
    out["daily"] = daily_verdicts(result.assessment, person)
    out["absorption_curves"] = absorption_curves(result, person) if with_models else []
    out["person"] = person.to_dict()
    return result, out


def daily_verdicts(assessment, person: Person) -> list[dict]:
    """The verdict on each of the next TIMELINE_DAYS days, from now."""
    t0 = person.day
    today = person.treated_on + timedelta(days=math.floor(t0))
    return [{"day": t0 + i, "date": (today + timedelta(days=i)).isoformat(),
             "verdict": assessment.verdict_at(t0 + i)} for i in range(TIMELINE_DAYS + 1)]


def absorption_curves(result, person: Person) -> list[dict]:
    """Absorption index over 0-96 h after treatment for each active the product holds."""
    fit = result.fit or {}
    absorption = fit.get("absorption") or {}
    if not absorption.get("actives"):
        return []
    from recommender.learn.absorption import ingredient_absorption

    out = []
    for act in absorption["actives"][:6]:
        res = ingredient_absorption(act["inci"], person.ctx.safety.hours,
                                    depth_mm=person.ctx.safety.depth_mm,
                                    classes=act.get("classes"), curve_hours=ABSORPTION_HOURS)
        curve = res.get("curve") or {}
        out.append({"inci": act["inci"], "position": act["position"],
                    "intact_term": res.get("intact_term"),
                    "intact_index": _intact_index(res),
                    "note": act.get("x_vs_intact_note"),
                    "t_hours": curve.get("t_hours"),
                    "absorption_index": curve.get("absorption_index")})
    return out


def _intact_index(res: dict) -> float | None:
    kp, now_kp, idx = res.get("intact_kp_cm_per_h"), res.get("kp_eff_cm_per_h"), \
        res.get("absorption_index")
    if not kp or not now_kp or not idx:
        return None
    return idx * kp / now_kp


# ----------------------------------------------------------------------------- search


SEARCH_FIELDS = {"any": ("name", "brand", "ingredients"), "name": ("name",),
                 "brand": ("brand",), "ingredient": ("ingredients",)}


def search(state: AppState, query: str, *, field: str = "any", limit: int = 50) -> dict:
    frame = state.catalog.frame
    q = query.strip()
    if not q:
        return {"query": q, "field": field, "total": 0, "products": []}
    hit = pd.Series(False, index=frame.index)
    for col in SEARCH_FIELDS[field]:
        if col in frame.columns:
            hit |= frame[col].astype(str).str.contains(q, case=False, regex=False, na=False)
    found = frame[hit]
    products = [summary(r) for _, r in found.head(limit).iterrows()]
    return {"query": q, "field": field, "total": int(hit.sum()), "products": products}


def summary(row) -> dict:
    get = row.get if hasattr(row, "get") else row.__getitem__
    return {"product_id": str(get("product_id")), "name": plain(get("name")),
            "brand": plain(get("brand")), "category": plain(get("category")),
            "price": _price(get("price")) if get("price") is not None else None}


def product_dict(state: AppState, product_id: str) -> dict:
    p = state.catalog.product(product_id)
    if p is None:
        raise ApiError(404, f"no product with id {product_id!r} in {state.catalog_label}")
    out = summary(p)
    out["ingredients"] = plain(p.get("ingredients"))
    out["row"] = plain(p.get("input_row"))
    out["demo"] = state.demo
    return out


def with_disclaimer(d: dict) -> dict:
    d.setdefault("disclaimer", DISCLAIMER)
    return d
