"""gunicorn settings for ``skinrec serve`` (and benchmarks/web_load.py): ``-c python:web.gunicorn_conf``.

Which need it answers: the app loads the catalog, the knowledge base and the models once in
the master (``--preload``, ~1M Python objects for a 10k catalog) and forks its workers from
there. Frozen before each fork (``gc.freeze``), those objects are never walked by a worker's
garbage collector, so their memory pages stay shared with the master instead of being
copied into every worker when the collector touches their headers (Python's own advice for
pre-fork servers; the batch engine does the same, recommender/batch/_preload.py).

Each worker then collects its young generation every WEB_GC_THRESHOLD[0] allocations rather
than 700: a recommend request leaves ~100 containers behind (kept answers, their texts), so
the default ran a collection every ~7 requests, and the older generations (every kept
answer) were walked again and again, up to ~0.3 s for one full collection. Measured under
``benchmarks/web_load.py`` (recommend, 10k products, 2 workers): the collector's share of a
worker's CPU 2.7-3.5 % -> 2.0 %, CPU per request 8.7 -> 8.3 ms, no full collection in
~3,000 requests per worker. Cycles are still collected.
"""

from __future__ import annotations

import gc

WEB_GC_THRESHOLD = (10_000, 10, 10)


def pre_fork(server, worker) -> None:       # gunicorn hook: in the master, before each fork
    gc.collect()
    gc.freeze()


def post_fork(server, worker) -> None:      # gunicorn hook: in each worker, after the fork
    gc.set_threshold(*WEB_GC_THRESHOLD)
