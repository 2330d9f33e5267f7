"""Safer alternatives: catalog products usable now whose concern fit resembles a checked one.

Answers "this serum is not safe yet: what could I use instead for the same concerns?". The
candidates are scored by the one scoring path (PreparedCatalog.score); this module only
filters on its columns (usable now, not never-safe, a readable list the recommender would
vouch for) and ranks by cosine similarity of the concern probabilities, then by score. The
pool is the checked product's category when the catalog has enough of it, capped at
``ALTERNATIVES_POOL`` rows so a large catalog stays fast.
"""

from __future__ import annotations

import math

import numpy as np

from recommender.recommend import MAX_UNRECOGNIZED_SHARE
from recommender.scoring import CONCERNS
from web.params import Person
from web.services import row_dict
from web.state import AppState

MIN_CATEGORY_POOL = 8


def _pool_ids(state: AppState, category: str | None, exclude: str | None, cap: int) -> list[str]:
    frame = state.catalog.frame
    ids = frame["product_id"]
    if category and "category" in frame.columns:
        same = frame["category"].astype(str).str.casefold() == category.casefold()
        if int(same.sum()) >= MIN_CATEGORY_POOL:
            ids = frame.loc[same, "product_id"]
    out = [i for i in ids.tolist() if i != exclude]
    return out[:cap]


def safer_alternatives(state: AppState, person: Person, *, concerns: dict | None,
                       verdict: str, category: str | None = None, exclude: str | None = None,
                       n: int = 5, cap: int = 3000) -> list[dict]:
    ids = _pool_ids(state, category, exclude, cap)
    if not ids:
        return []
    scored = state.catalog.score(person.ctx, ids)
    n_ing = scored["n_ingredients"].astype(float)
    share = scored["n_unrecognized"].astype(float) / n_ing.where(n_ing > 0)
    usable = ("suitable",) if verdict in ("caution", "suitable") else ("suitable", "caution")
    ok = (scored["status"] == "ok") & ~scored["never_safe"].astype(bool) & \
        scored["verdict"].isin(usable) & (share <= MAX_UNRECOGNIZED_SHARE)
    cand = scored[ok].copy()
    if not len(cand):
        return []
    target = np.array([(concerns or {}).get(c) or 0.0 for c in CONCERNS], float)
    mat = cand[[f"concern_{c}" for c in CONCERNS]].astype(float).fillna(0.0).to_numpy()
    norms = np.linalg.norm(mat, axis=1) * (np.linalg.norm(target) or math.nan)
    sim = np.where(norms > 0, mat @ target / np.where(norms > 0, norms, 1), 0.0)
    cand["similarity"] = np.nan_to_num(sim)
    cand = cand.sort_values(["similarity", "post_needling_score"], ascending=[False, False],
                            kind="mergesort").head(n)
    out = []
    for _, r in cand.iterrows():
        d = row_dict(r, person)
        d["similarity"] = round(float(r["similarity"]), 3)
        out.append(d)
    return out
