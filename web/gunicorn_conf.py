"""gunicorn settings for ``skinrec serve`` (and benchmarks/web_load.py): ``-c python:web.gunicorn_conf``.

Which need it answers: the app loads the catalog, the knowledge base and the models once in
the master (``--preload``, ~1M Python objects for a 10k catalog) and forks its workers from
there. Frozen before each fork (``gc.freeze``), those objects are never walked by a worker's
garbage collector, so their memory pages stay shared with the master instead of being
copied into every worker when the collector touches their headers (Python's own advice for
pre-fork servers; the batch engine does the same, recommender/batch/_preload.py).
"""

from __future__ import annotations

import gc


def pre_fork(server, worker) -> None:       # gunicorn hook: in the master, before each fork
    gc.collect()
    gc.freeze()
