"""Imported by the forkserver before it forks pool workers: the modules a worker needs and
the knowledge base are loaded once there, so every worker forked from it starts with them in
memory (shared copy-on-write) instead of importing and loading them again. The learned models
are loaded here too (a run with --no-models pays a few seconds once, in this process only)."""

try:
    import recommender.batch.local  # noqa: F401 - pandas, pyarrow, scoring
    from recommender.knowledge.reader import default_reader
    from recommender.scoring.learned import default_models

    default_reader()
    default_models(True)
    import gc

    gc.collect()
    gc.freeze()       # workers fork from here: the GC never walks (or dirties) these objects
except Exception:  # noqa: BLE001 - a worker's initializer loads it again and reports the error
    pass
