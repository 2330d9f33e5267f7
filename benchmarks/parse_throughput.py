"""Parse + canonicalise throughput on one core over a perturbed real catalog.

    python benchmarks/parse_throughput.py [--rows 200000] [--seed 0] [--gc batch|default]
                                          [--with-fallback [--chunk 2000]]

Reports products/s (wall clock, and per CPU-second, which is steadier on a shared machine)
for a cold pass (empty token caches) and a warm pass (caches filled by
the first pass, the steady state of a long batch run), the share of distinct lists, and
the recognised share of declared mentions on the generated catalog; and the floor
(``floor_products_per_cpu_s``): the same lists split on their commas into one cached
``Mention`` per token and one ``ParsedList`` each, nothing else -- the output objects alone. Not a test: timings
depend on the machine; compare figures from one run.

``--gc batch`` (the default) runs with the garbage-collector settings of a batch scoring
worker (``recommender.batch.local``: the loaded knowledge base frozen, young generation
``GC_THRESHOLD``), the setting every batch run parses under; ``--gc default`` keeps Python's
(700, 10, 10), under which collections walking the parser's memos cost about a third of a
warm pass.

``--with-fallback`` reads as batch scoring does, with the learned class fallback for names
the KB does not know (one model call per list with a new unknown name); ``--chunk N`` then
reads N lists at a time with ``Reader.read_many`` (one model call per chunk), as
``score_frame`` does.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from catalog_gen import distinct_share, generate  # noqa: E402

from recommender.knowledge.reader import Reader, default_reader  # noqa: E402


def run(rows: int, seed: int, with_fallback: bool = False, chunk: int = 0,
        gc_mode: str = "batch") -> dict:
    t0 = time.perf_counter()
    frame = generate(rows, seed)
    gen_s = time.perf_counter() - t0
    texts = frame["ingredients"].tolist()
    base = default_reader()
    out = {"rows": rows, "distinct_share": round(distinct_share(frame), 4),
           "generate_s": round(gen_s, 1), "with_fallback": with_fallback, "chunk": chunk,
           "gc": gc_mode}
    if gc_mode == "batch":
        from recommender.batch.local import GC_THRESHOLD

        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLD)
    fallback = base.fallback if with_fallback else None
    for label in ("cold", "warm"):
        reader = base if label == "warm" else Reader(base.kb, dict(_aliases()), base.rules,
                                                     fallback)
        if label == "cold":
            reader.canon._lookups.clear()
            reader.canon.token_cache.clear()
        declared = recognised = 0
        c0 = time.process_time()
        t0 = time.perf_counter()
        if chunk:
            lists = (p for i in range(0, len(texts), chunk)
                     for p in reader.read_many(texts[i:i + chunk]))
        else:
            lists = (reader.read(text) for text in texts)
        for parsed in lists:
            for m in parsed.ingredients:
                if m.section == "declared":
                    declared += 1
                    recognised += m.match in ("exact", "alias")
        secs = time.perf_counter() - t0
        cpu = time.process_time() - c0
        out[f"{label}_s"] = round(secs, 2)
        out[f"{label}_cpu_s"] = round(cpu, 2)
        out[f"{label}_products_per_s"] = round(rows / secs)
        out[f"{label}_products_per_cpu_s"] = round(rows / cpu)
        out["recognised_share"] = round(recognised / max(declared, 1), 4)
        if label == "cold":
            base = reader  # the warm pass reuses the caches the cold pass filled
    floor_cpu = _floor(texts, base._rows)
    out["floor_cpu_s"] = round(floor_cpu, 2)
    out["floor_products_per_cpu_s"] = round(rows / floor_cpu)
    return out


def _floor(texts: list[str], rows: dict) -> float:
    """CPU seconds of the least any parser with the contract's output does on this
    interpreter: split each list on its commas, one dict look-up per token (the warm
    pass's token cache, every token a hit), one ``Mention`` per token with its position and
    one ``ParsedList`` per list -- no normalisation, no checks, no repair. What the parser
    costs above this is its work; this much is the price of the output objects."""
    from itertools import starmap

    from recommender.inci.model import Mention, ParsedList

    proto = next(iter(rows.values()))
    get = rows.get
    c0 = time.process_time()
    for text in texts:
        ms = list(starmap(Mention, [get(t.strip(), proto) for t in text.split(",")]))
        for i, m in enumerate(ms, 1):
            m.position = i
        ParsedList(text=text, ingredients=ms)
    return time.process_time() - c0


def _aliases():
    from recommender.knowledge.reader import load_aliases

    return load_aliases()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--with-fallback", action="store_true",
                    help="include the learned class fallback (as batch scoring reads)")
    ap.add_argument("--chunk", type=int, default=0,
                    help="with --with-fallback: read N lists at a time (Reader.read_many)")
    ap.add_argument("--gc", choices=["batch", "default"], default="batch",
                    help="garbage-collector settings: a batch worker's (default) or Python's")
    args = ap.parse_args()
    print(json.dumps(run(args.rows, args.seed, args.with_fallback, args.chunk, args.gc),
                     indent=2))


if __name__ == "__main__":
    main()
