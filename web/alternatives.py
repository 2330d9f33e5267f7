"""Safer alternatives: catalog products usable now whose concern fit resembles a checked one.

Answers "this serum is not safe yet: what could I use instead for the same concerns?". The
pool is the checked product's category when the catalog has enough of it, else the whole
catalog. Which products are usable now comes from the prepared catalog's exact verdicts
(``PreparedCatalog.estimate``: the safety engine's windows, no rule here); they are ranked by
cosine similarity of the concern model's probabilities (the prepared columns score_frame
reports), then by score. Only the rows that can make the first ``n`` are scored through the
one scoring path (PreparedCatalog.score) and shown with its numbers and reasons, so a check
page costs milliseconds on a 10k-product catalog.
"""

from __future__ import annotations

import numpy as np

from recommender.scoring import CONCERNS
from recommender.scoring.prepared import SCORE_MARGIN, candidate_rows
from web.params import Person
from web.services import row_dict
from web.state import AppState

MIN_CATEGORY_POOL = 8


def _pool(state: AppState, category: str | None, exclude: str | None) -> np.ndarray:
    frame = state.catalog.frame
    pool = np.ones(len(frame), dtype=bool)
    if category and "category" in frame.columns:
        same = (frame["category"].astype(str).str.casefold() == category.casefold()).to_numpy()
        if int(same.sum()) >= MIN_CATEGORY_POOL:
            pool = same
    if exclude is not None:
        pool = pool & (frame["product_id"] != exclude).to_numpy()
    return pool


def safer_alternatives(state: AppState, person: Person, *, concerns: dict | None,
                       verdict: str, category: str | None = None, exclude: str | None = None,
                       n: int = 5) -> list[dict]:
    pc = state.catalog
    if not len(pc):
        return []
    est = pc.estimate(person.ctx)
    usable = ("suitable",) if verdict in ("caution", "suitable") else ("suitable", "caution")
    ok = _pool(state, category, exclude) & pc.ok & ~est["never_safe"] & \
        np.isin(est["verdict"], usable)
    if not ok.any():
        return []
    target = np.array([(concerns or {}).get(c) or 0.0 for c in CONCERNS], float)
    mat = np.nan_to_num(pc.concern_mat)
    norms = np.linalg.norm(mat, axis=1) * (np.linalg.norm(target) or np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = np.nan_to_num(np.where(norms > 0, mat @ target / np.where(norms > 0, norms, 1), 0.0))
    sim = np.round(sim, 12)        # the same similarity whichever rows it is computed with
    rows = candidate_rows(ok, -sim, est["score"], pc.row, n, SCORE_MARGIN)
    ids = pc.frame["product_id"].iloc[rows].tolist()
    scored = pc.score(person.ctx, ids)
    scored["similarity"] = sim[rows]
    scored = scored.sort_values(["similarity", "post_needling_score", "input_row"],
                                ascending=[False, False, True], kind="mergesort").head(n)
    out = []
    for _, r in scored.iterrows():
        d = row_dict(r, person)
        d["similarity"] = round(float(r["similarity"]), 3)
        out.append(d)
    return out
