"""The local batch engine: stream a catalog in chunks through score_frame, one or N processes.

Which need each piece answers:

- A retailer's catalog of 10^3 to 10^7 rows on one machine: the input is read in chunks of
  ``chunk_rows`` records (recommender.batch.io), each chunk is scored by ``score_frame`` and
  serialised (CSV/JSONL text or an Arrow table), then appended to a temporary output file
  that is renamed into place at the end. Memory is bounded by the chunks in flight
  (``2 * workers`` at most), whatever the input size.
- The parser is pure Python (it holds the GIL), so ``workers > 1`` uses processes
  (``concurrent.futures.ProcessPoolExecutor``, forkserver start method): each worker loads the
  knowledge base and the models once, in its initializer, and receives the scoring context
  once; chunks are scored *and serialised* in the workers, so the parent only reads and
  writes bytes. Results are written in input order. Each worker is replaced after
  ``recycle_rows`` rows (default ``RECYCLE_ROWS``, 250,000): the parser's token caches and
  the models' caches grow with the vocabulary seen, and a fresh worker (forked from the forkserver, which
  holds the knowledge base) keeps a process's memory bounded whatever the input size.
- Every input row is accounted for: scored rows go to the output, unreadable records (and,
  should one happen, a row whose scoring raised) to the rejects file with row number and
  reason; :class:`RunSummary` checks that scored + rejected == rows read.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from recommender.batch.io import (
    ROW_COLUMN,
    InputError,
    ReadStats,
    Reject,
    RejectsWriter,
    default_rejects_path,
    detect_format,
    fast_csv,
    fast_jsonl,
    is_stream,
    make_writer,
    read_chunks,
)
from recommender.scoring import ScoreContext, resolve_columns, score_frame


@dataclass
class RunSummary:
    input: str
    output: str
    rejects: str
    engine: str = "local"
    workers: int = 1
    rows: int = 0
    scored: int = 0
    rejected: int = 0
    blank_lines: int = 0
    verdicts: Counter = field(default_factory=Counter)
    unreadable: int = 0
    friendly: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return self.scored + self.rejected == self.rows

    def to_dict(self) -> dict:
        return {
            "input": self.input, "output": self.output, "rejects_file": self.rejects,
            "engine": self.engine, "workers": self.workers, "rows": self.rows,
            "scored": self.scored, "rejected": self.rejected, "blank_lines": self.blank_lines,
            "verdicts": dict(self.verdicts), "unreadable_lists": self.unreadable,
            "post_procedure_friendly": self.friendly, "seconds": round(self.seconds, 3),
            "products_per_s": round(self.rows / self.seconds, 1) if self.seconds else None,
            "warnings": self.warnings,
        }

    def lines(self) -> list[str]:
        v = self.verdicts
        out = [
            f"read {self.rows} row(s): {self.scored} scored -> {self.output}, "
            f"{self.rejected} rejected -> {self.rejects}",
            f"verdicts: avoid {v.get('avoid', 0)}, caution {v.get('caution', 0)}, "
            f"suitable {v.get('suitable', 0)}; {self.unreadable} without a readable ingredient "
            f"list; {self.friendly} post-procedure friendly",
        ]
        if self.blank_lines:
            out.append(f"{self.blank_lines} blank line(s) skipped (not rows)")
        rate = f", {self.rows / self.seconds:.0f} rows/s" if self.seconds else ""
        out.append(f"{self.engine} engine, {self.workers} worker(s), {self.seconds:.1f} s{rate}")
        return out


# ----------------------------------------------------------------------------- chunk work

_WORKER: dict = {}
# A worker process is replaced after about this many rows: a guard against slow growth
# (allocator fragmentation). Every per-process memo is bounded by config.MEMO_ENTRIES, and a
# new worker re-learns its memos (its first chunks cost 2-3x a warm one), so not often.
RECYCLE_ROWS = 250_000


# The cyclic garbage collector while scoring. Scoring allocates many small containers
# (mentions, flags, dicts) that die young, and the default thresholds (700, 10, 10) then run
# ~140 collections per 1,000 rows, the older ones walking the knowledge base, the models and
# the parser's memos again and again: 11-12 % of a worker's CPU (measured: 2.9-3.0 s of
# 24-25 CPU-s on 12,000 generated rows). With the loaded objects frozen (gc.freeze: never
# traversed, and their pages not dirtied in forked workers) and a larger young generation,
# it is 0.7 s, at the same peak RSS (523 MB both ways). Cycles are still collected.
GC_THRESHOLD = (20_000, 20, 20)


def _tune_gc() -> None:
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


_GC_LOCK = threading.Lock()
_GC_STATE: dict = {"runs": 0, "before": None, "froze": False}


@contextlib.contextmanager
def _scoring_gc():
    """:data:`GC_THRESHOLD` with what is loaded frozen, for an in-process run; restored when
    the last in-process run of this process ends (the web app may run uploads in threads,
    and the collector's settings are per process)."""
    from recommender.knowledge.reader import default_reader

    default_reader()                      # loaded before the freeze, so it is frozen
    with _GC_LOCK:
        if _GC_STATE["runs"] == 0:
            _GC_STATE["before"] = gc.get_threshold()
            # Someone else's frozen objects stay theirs: then only the thresholds change.
            _GC_STATE["froze"] = gc.get_freeze_count() == 0
            if _GC_STATE["froze"]:
                gc.freeze()
            gc.set_threshold(*GC_THRESHOLD)
        _GC_STATE["runs"] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_STATE["runs"] -= 1
            if _GC_STATE["runs"] == 0:
                gc.set_threshold(*_GC_STATE["before"])
                if _GC_STATE["froze"]:
                    gc.unfreeze()


def _init_worker(ctx: ScoreContext, columns: dict | None, fmt_out: str, delimiter: str) -> None:
    from recommender.knowledge.reader import default_reader
    from recommender.scoring.learned import default_models

    _WORKER.update(ctx=ctx, columns=columns, fmt_out=fmt_out, delimiter=delimiter)
    default_reader()                      # load the KB once per process
    default_models(ctx.use_models)
    _tune_gc()                            # for the life of the worker process


def _score_in_worker(frame: pd.DataFrame):
    res = score_chunk(frame, _WORKER["ctx"], _WORKER["columns"], _WORKER["fmt_out"],
                      delimiter=_WORKER["delimiter"])
    payload = res[0]
    if isinstance(payload, str):
        # Encoded here, once: the parent receives bytes (pickled as a plain copy, no UTF-8
        # decode) and appends them to the output as they are (no encode either).
        res = (payload.encode("utf-8"), *res[1:])
    return res


def score_chunk(frame: pd.DataFrame, ctx: ScoreContext, columns: dict | None, fmt_out: str,
                *, header: bool = False, delimiter: str = ","):
    """Score one chunk; returns (payload, n_scored, error rejects, verdict counts, unreadable,
    friendly). ``payload`` is CSV/JSONL text or an Arrow table, ready to append (a pool
    worker sends the text as UTF-8 bytes)."""
    scored = score_frame(frame, ctx, columns=columns, errors="mark")
    errors: list[Reject] = []
    if len(scored) and (scored["status"] == "error").any():
        bad = scored["status"] == "error"
        ing = resolve_columns(frame.columns, columns)["ingredients"]
        for _, r in scored[bad].iterrows():
            reason = r["reasons_against"]
            errors.append(Reject(int(r[ROW_COLUMN]), None, str(reason), str(frame.loc[_, ing])))
        scored = scored[~bad]
    verdicts = Counter(scored["verdict"].tolist())
    unreadable = int((scored["status"] != "ok").sum())
    friendly = int(scored["post_procedure_friendly"].sum())
    return (serialise(scored, fmt_out, header=header, delimiter=delimiter), len(scored), errors,
            verdicts, unreadable, friendly)


def serialise(df: pd.DataFrame, fmt_out: str, *, header: bool = False, delimiter: str = ","):
    """One scored chunk as bytes-to-be: CSV or JSONL text, or an Arrow table for Parquet."""
    if fmt_out == "csv":
        return fast_csv(df, delimiter=delimiter, header=header)
    if fmt_out == "jsonl":
        return fast_jsonl(df)
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False)


class _PayloadWriter:
    """Appends serialised chunks to a temporary file; renamed into place on commit."""

    def __init__(self, path, fmt_out: str):
        self.fmt = fmt_out
        self.inner = make_writer(path, fmt_out)
        self.schema = None
        self.started = False
        # CSV/JSONL: every chunk arrives as text or UTF-8 bytes and goes to the binary layer
        # under the writer's text handle (nothing is ever written through the text layer).
        self.raw = self.inner.fh.buffer if fmt_out in ("csv", "jsonl") else None

    @property
    def atomic(self):
        return self.inner.atomic

    def start(self, columns: list[str], sample: pd.DataFrame) -> None:
        if self.fmt == "csv":
            self.write(fast_csv(sample.iloc[:0], header=True, delimiter=self.inner.delimiter))
        self.started = True

    def write(self, payload) -> None:
        if self.raw is not None:
            self.raw.write(payload.encode("utf-8") if isinstance(payload, str) else payload)
            return
        import pyarrow.parquet as pq

        from recommender.batch.io import arrow_schema

        if self.inner.writer is None:
            self.inner.schema = arrow_schema(payload.schema.empty_table().to_pandas()) \
                if len(payload) == 0 else _fix_schema(payload.schema)
            self.inner.writer = pq.ParquetWriter(str(self.inner.atomic.tmp), self.inner.schema)
        self.inner.writer.write_table(payload.cast(self.inner.schema))

    def write_empty(self, sample: pd.DataFrame) -> None:
        """Parquet with zero rows still gets a valid file with the full schema."""
        if self.fmt == "parquet" and self.inner.writer is None:
            self.write(serialise(sample.iloc[:0], "parquet"))

    def commit(self) -> None:
        self.inner.close()
        self.inner.atomic.commit()

    def abort(self) -> None:
        self.inner.abort()


def _fix_schema(schema):
    import pyarrow as pa

    fields = []
    for f in schema:
        if pa.types.is_null(f.type) or pa.types.is_large_string(f.type):
            f = f.with_type(pa.string())
        fields.append(f)
    return pa.schema(fields, metadata=schema.metadata)


def _pool_context():
    """forkserver (the server preloads the knowledge base, so workers fork with it in memory)
    where available, else spawn. Not fork: the parent runs threads (pyarrow, tqdm)."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["recommender.batch._preload"])
    return ctx


# ----------------------------------------------------------------------------- the run


def run_local(inp: str, out: str, ctx: ScoreContext, *, fmt_in: str | None = None,
              fmt_out: str | None = None, columns: dict | None = None, chunk_rows: int = 2000,
              workers: int = 1, rejects: str | None = None, progress: bool | None = None,
              log: Callable[[str], None] | None = None,
              recycle_rows: int = RECYCLE_ROWS) -> RunSummary:
    """Score ``inp`` into ``out`` (atomically); every row ends in ``out`` or the rejects file.

    ``recycle_rows``: with ``workers > 1`` each worker process is replaced after scoring about
    this many rows, so the parser's and models' per-process caches cannot grow without
    bound over a long catalog (0: never).
    """
    fmt_in = detect_format(inp, fmt_in)
    fmt_out = detect_format(out, fmt_out)
    if Path(out).resolve() == Path(inp).resolve():
        raise InputError("the output file must not be the input file")
    rejects = rejects or str(default_rejects_path(out))
    if workers < 1:
        raise InputError("--workers must be at least 1")
    t0 = time.perf_counter()
    stats = ReadStats()
    summary = RunSummary(inp, str(out), rejects, workers=workers)
    chunks = read_chunks(inp, fmt_in, chunk_rows=chunk_rows, stats=stats)
    writer = _PayloadWriter(out, fmt_out)
    delim = getattr(writer.inner, "delimiter", ",")
    rej = RejectsWriter(rejects)
    bar = _progress_bar(inp, fmt_in, progress)
    pool = None
    ok = False
    gc_tuned = False
    stack = contextlib.ExitStack()
    try:
        pending: deque = deque()
        if workers > 1:
            per_child = max(1, recycle_rows // chunk_rows) if recycle_rows else None
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(),
                                       initializer=_init_worker,
                                       initargs=(ctx, columns, fmt_out, delim),
                                       max_tasks_per_child=per_child)
        first = True
        sample = None
        last_bytes = 0

        def drain(item) -> None:
            nonlocal last_bytes
            payload, n_scored, errors, verdicts, unreadable, friendly, reader_rejects = item
            writer.write(payload)
            rej.write_rejects(reader_rejects + errors)
            summary.scored += n_scored
            summary.verdicts.update(verdicts)
            summary.unreadable += unreadable
            summary.friendly += friendly
            summary.rejected += len(reader_rejects) + len(errors)
            if bar is not None:
                if fmt_in == "parquet":
                    bar.update(n_scored)
                else:
                    bar.update(stats.bytes_read - last_bytes)
                    last_bytes = stats.bytes_read

        for chunk in chunks:
            frame = chunk.frame
            if first:
                resolve_columns(frame.columns, columns)   # fail early, before any work
                sample = score_frame(frame.iloc[:0], ctx, columns=columns)
                writer.start(list(sample.columns), sample)
                first = False
            if pool is None:
                if len(frame):
                    if not gc_tuned:
                        from recommender.scoring.learned import default_models

                        default_models(ctx.use_models)
                        stack.enter_context(_scoring_gc())
                        gc_tuned = True
                    res = score_chunk(frame, ctx, columns, fmt_out, delimiter=delim)
                else:
                    res = (serialise(sample, fmt_out), 0, [], Counter(), 0, 0)
                drain((*res, chunk.rejects))
                continue
            fut = pool.submit(_score_in_worker, frame)
            pending.append((fut, chunk.rejects))
            while len(pending) >= 2 * workers:
                f, r = pending.popleft()
                drain((*f.result(), r))
        while pending:
            f, r = pending.popleft()
            drain((*f.result(), r))
        if sample is not None:
            writer.write_empty(sample)
        summary.rows = stats.rows
        summary.blank_lines = stats.blank_lines
        summary.warnings = stats.warning_lines()
        if not summary.consistent:         # an invariant, not a user error
            raise RuntimeError(f"row accounting failed: {summary.scored} scored + "
                               f"{summary.rejected} rejected != {summary.rows} read")
        rej.commit()
        writer.commit()
        ok = True
    finally:
        stack.close()
        if bar is not None:
            bar.close()
        if pool is not None:
            _shutdown(pool, ok)
        if not ok:
            writer.abort()
            rej.abort()
    summary.seconds = time.perf_counter() - t0
    if log is not None:
        for w in summary.warnings:
            log(f"warning: {w}")
    return summary


def _shutdown(pool: ProcessPoolExecutor, ok: bool) -> None:
    if ok:
        pool.shutdown(wait=True)
        return
    procs = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:                       # interrupted: do not wait for chunks in progress
        if p.is_alive():
            p.terminate()


def _progress_bar(inp: str, fmt_in: str, progress: bool | None):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm import tqdm

    if fmt_in == "parquet":
        import pyarrow.parquet as pq

        total = pq.ParquetFile(inp).metadata.num_rows
        return tqdm(total=total, unit="row", file=sys.stderr, desc="scoring")
    try:
        total = None if is_stream(inp) else os.path.getsize(inp)
    except OSError:
        total = None
    return tqdm(total=total, unit="B", unit_scale=True, file=sys.stderr, desc="scoring")
