"""Safer alternatives pick what scoring the whole pool would pick (real catalog, real models).

web.alternatives ranks with the prepared catalog's exact verdicts and approximate scores and
scores only the rows that can make the first n; here the same ranking is computed the slow
way, every pool row through score_frame, and the two must agree.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from recommender.recommend import MAX_UNRECOGNIZED_SHARE
from recommender.scoring import CONCERNS, make_score_context, score_frame
from recommender.scoring.prepared import PreparedCatalog
from web.alternatives import safer_alternatives
from web.params import Person
from web.state import AppState

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def state(catalogs):
    from recommender.safety import default_protocol

    pc = PreparedCatalog(catalogs("cosmetics_2017"), source="cosmetics_2017")
    return AppState(catalog=pc, protocol=default_protocol(), catalog_label="cosmetics_2017",
                    rejected_rows=0, custom_protocol=False)


def _slow(state, person, concerns, verdict, category, exclude, n):
    frame = state.catalog.frame
    pool = frame
    same = frame["category"].astype(str).str.casefold() == category.casefold()
    if same.sum() >= 8:
        pool = frame[same]
    pool = pool[pool["product_id"] != exclude]
    scored = score_frame(pool, person.ctx)
    n_ing = scored["n_ingredients"].astype(float)
    share = scored["n_unrecognized"].astype(float) / n_ing.where(n_ing > 0)
    usable = ("suitable",) if verdict in ("caution", "suitable") else ("suitable", "caution")
    ok = (scored["status"] == "ok") & ~scored["never_safe"].astype(bool) & \
        scored["verdict"].isin(usable) & (share <= MAX_UNRECOGNIZED_SHARE)
    cand = scored[ok].copy()
    target = np.array([concerns.get(c) or 0.0 for c in CONCERNS], float)
    mat = cand[[f"concern_{c}" for c in CONCERNS]].astype(float).fillna(0.0).to_numpy()
    norms = np.linalg.norm(mat, axis=1) * np.linalg.norm(target)
    cand["similarity"] = np.round(np.where(norms > 0, mat @ target / np.where(norms > 0, norms, 1),
                                           0.0), 12)
    cand = cand.sort_values(["similarity", "post_needling_score"], ascending=[False, False],
                            kind="mergesort").head(n)
    return cand["product_id"].tolist()


@pytest.mark.parametrize(("day", "category", "index"), [(1, "Moisturizer", 3), (3, "Treatment", 40),
                                                        (6, "Face Mask", 7)])
def test_alternatives_equal_scoring_the_whole_pool(state, day, category, index):
    frame = state.catalog.frame
    pool = frame[frame["category"] == category]
    exclude = pool["product_id"].iloc[index]
    scored_one = state.catalog.score(make_score_context(day=day), [exclude]).iloc[0]
    concerns = {c: scored_one[f"concern_{c}"] for c in CONCERNS}
    person = Person(ctx=make_score_context(day=day, depth=1.0), treated_on=date(2026, 11, 1),
                    treated_given=False)
    got = safer_alternatives(state, person, concerns=concerns, verdict="avoid",
                             category=category, exclude=exclude, n=5)
    want = _slow(state, person, concerns, "avoid", category, exclude, 5)
    assert len(want) == 5
    assert [d["product_id"] for d in got] == want
    assert all(d["verdict"] in ("suitable", "caution") for d in got)
