"""In-process recommend latency on a prepared 10k-product catalog vs the full scoring path.

    python benchmarks/prepared_recommend.py [--rows 10000] [--requests 200] [--seed 0]

What it measures (DESIGN.md: API recommend p95 <= 50 ms over a 10k-product catalog):

1. Generates a catalog with benchmarks/catalog_gen.py (perturbed real lists) and builds a
   :class:`recommender.scoring.prepared.PreparedCatalog` (reads every list, predicts the
   person-independent model columns), then ``warm()`` (the safety tables the web app builds
   before its workers fork).
2. ``--requests`` recommend calls for varied people (day 0-14 or hours, depth 0.25-2.0 mm,
   modality, concerns, skin types, avoid-lists, pregnancy, budget, k), one thread, and
   reports p50 / p95 / p99 / max in ms, plus how many rows each call re-scored.
3. The same answer by the full path (``recommender.recommend.recommend``: every row through
   score_frame) for a few of those people, to show what the preparation saves, and checks
   that both answers are identical.

Not a test: timings depend on the machine and its load (reported). The HTTP figures under
gunicorn are benchmarks/web_load.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

CONCERN_CHOICES = ["dark spots", "dryness", "acne", "fine lines", "redness", "pores",
                   "dullness", "firmness"]
SKIN_CHOICES = ["dry", "oily", "combination", "normal", "sensitive"]
AVOID_CHOICES = ["", "", "", "fragrance", "niacinamide", "retinoids", "alcohol denat",
                 "essential oils, fragrance", "vitamin c"]


def person(rng: random.Random) -> tuple[dict, dict]:
    ctx: dict = {"depth": rng.choice([0.25, 0.5, 1.0, 1.0, 1.5, 2.0]),
                 "modality": rng.choice(["mn", "mn", "mn", "rf"]),
                 "pregnant": rng.random() < 0.1}
    if rng.random() < 0.3:
        ctx["hours"] = rng.choice([2, 12, 20, 36, 60, 100])
    else:
        ctx["day"] = rng.randint(0, 14)
    if rng.random() < 0.7:
        ctx["concerns"] = ",".join(rng.sample(CONCERN_CHOICES, rng.randint(1, 3)))
    if rng.random() < 0.7:
        ctx["skin_type"] = rng.choice(SKIN_CHOICES)
    avoid = rng.choice(AVOID_CHOICES)
    if avoid:
        ctx["avoid"] = avoid
    opts: dict = {"k": rng.choice([5, 10, 10, 20])}
    if rng.random() < 0.2:
        opts["budget"] = rng.choice([20, 40, 80])
    return ctx, opts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--full", type=int, default=3, help="people also run through the full path")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import catalog_gen

    from recommender.recommend import recommend
    from recommender.scoring import make_score_context
    from recommender.scoring.prepared import PreparedCatalog

    df = catalog_gen.generate(args.rows, seed=args.seed)
    rng = random.Random(args.seed)
    df["price"] = [round(rng.uniform(8, 120), 2) for _ in range(len(df))]
    print(f"load average {os.getloadavg()[0]:.2f}; {len(df)} products", flush=True)
    t = time.perf_counter()
    pc = PreparedCatalog(df, source="generated")
    t_prep = time.perf_counter() - t
    t = time.perf_counter()
    pc.warm()
    t_warm = time.perf_counter() - t
    print(f"prepare {t_prep:.1f} s, warm {t_warm:.1f} s", flush=True)

    people = [person(rng) for _ in range(args.requests)]
    lat = []
    for c, o in people:
        ctx = make_score_context(**c)
        t = time.perf_counter()
        pc.recommend(ctx, **o)
        lat.append((time.perf_counter() - t) * 1000)
    a = np.asarray(lat)
    res = {"rows": len(df), "requests": len(a), "prepare_s": round(t_prep, 1),
           "warm_s": round(t_warm, 1),
           "p50_ms": round(float(np.percentile(a, 50)), 1),
           "p95_ms": round(float(np.percentile(a, 95)), 1),
           "p99_ms": round(float(np.percentile(a, 99)), 1), "max_ms": round(float(a.max()), 1),
           "load_average": round(os.getloadavg()[0], 2)}
    full = []
    for c, o in people[:args.full]:
        ctx = make_score_context(**c)
        t = time.perf_counter()
        want = recommend(pc.frame, ctx, **o)
        full.append((time.perf_counter() - t) * 1000)
        got = pc.recommend(ctx, **o)
        same = json.dumps(got, sort_keys=True, default=str) == json.dumps(want, sort_keys=True,
                                                                          default=str)
        if not same:
            raise SystemExit(f"prepared and full answers differ for {c} {o}")
    if full:
        res["full_path_ms_mean"] = round(float(np.mean(full)), 0)
        res["identical_answers"] = len(full)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
