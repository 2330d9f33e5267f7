"""The Dask engine: the same score_frame over a cluster, via ``map_partitions`` with explicit meta.

Which need it answers: a catalog too large for one machine's cores (ANCHORS.md section D:
"each partition *is* a pandas DataFrame, so the same score_frame runs unchanged"). Needs the
optional extra ``pip install skinrec[dask]`` (dask[dataframe], distributed, pyarrow).

- Inputs: a CSV or Parquet path, a glob, or an fsspec URL (``s3://...`` where the fsspec
  backend is installed). CSV files are read by the local engine's record reader
  (recommender.batch.io), so rows, row numbers, rejects and encoding fallbacks are identical
  to the local engine; the client scans each CSV once to cut it into partitions of
  ``partition_rows`` records at record boundaries (byte offsets), and each partition reads
  only its byte range. Parquet partitions are row groups.
- Scoring: ``ddf.map_partitions(score_partition, context, meta=...)`` where ``meta`` is
  ``score_frame`` applied to the empty input frame: the output columns and dtypes are
  declared, never inferred by running a partition. The context goes to the workers once
  (a Delayed argument); each worker process loads the knowledge base once (module cache).
- Output: a directory of partitioned Parquet (``part.N.parquet``, default) or CSV
  (``part-N.csv``), rejects under ``OUT/_rejects/`` (CSV: row, line, reason, raw; a leading
  underscore keeps Parquet readers from taking it for data), and ``OUT/_summary.json``.
  Each partition is read, scored and written by one task (a second ``map_partitions`` that
  writes the part files and returns the partition's counts): writing the output and the
  rejects with ``to_parquet``/``to_csv`` from two filtered views of the scored frame made
  Dask score every partition twice (checked: the fused upstream is not shared).
  Written into a hidden temporary directory renamed into place at the end: an interrupted
  run leaves no partial OUT. Output must be a local path.
- Scheduler: ``--scheduler ADDRESS`` connects to a running cluster; otherwise a
  ``distributed.LocalCluster`` with ``workers`` processes of one thread each (the parser is
  pure Python and holds the GIL: processes, not threads).
"""

from __future__ import annotations

import glob as _glob
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recommender.batch.io import (
    REJECT_COLUMNS,
    ROW_COLUMN,
    AtomicPath,
    CsvRecords,
    InputError,
    ReadStats,
    Reject,
    arrow_schema,
    detect_format,
    is_stream,
)
from recommender.batch.local import RunSummary
from recommender.scoring import ScoreContext, resolve_columns, score_frame

FILE_COLUMN = "input_file"
_REJ = ("_reject_line", "_reject_reason", "_reject_raw")


@dataclass(frozen=True)
class CsvPart:
    path: str
    header: tuple[str, ...]
    start_byte: int
    end_byte: int | None
    first_row: int
    first_line: int
    file_label: str | None = None


@dataclass(frozen=True)
class ParquetPart:
    path: str
    row_group: int
    first_row: int
    file_label: str | None = None


# ----------------------------------------------------------------------------- inputs


def expand_paths(inp: str) -> list[str]:
    """A path, a glob or an fsspec URL (with glob) -> sorted list of files."""
    if "://" in inp:
        import fsspec

        fs, _, paths = fsspec.get_fs_token_paths(inp)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        return sorted(p if "://" in p else f"{protocol}://{p}" for p in paths) if \
            protocol not in ("file", "local") else sorted(paths)
    if is_stream(inp):
        raise InputError(f"{inp}: the dask engine splits its input by byte offsets, so it must "
                         "be a file, not a pipe; score a pipe with the local engine")
    if any(ch in inp for ch in "*?["):
        paths = sorted(_glob.glob(inp))
    else:
        paths = [inp] if Path(inp).exists() else []
    if not paths:
        raise InputError(f"{inp}: no such file")
    return paths


def plan_csv_parts(path: str, partition_rows: int, *, label: str | None = None) -> tuple[list[CsvPart], int, ReadStats]:
    """Scan one CSV once: partition boundaries every ``partition_rows`` records."""
    stats = ReadStats()
    recs = CsvRecords(path, stats=stats)
    parts: list[CsvPart] = []
    start = None           # (byte, row, line) of the current partition
    count = 0
    for item in recs:
        if isinstance(item, Reject):
            if start is None:
                start = (None, item.row, item.line)
            count += 1
            continue
        row, line, _fields = item
        offset = recs.last_offset
        if start is None:
            start = (offset, row, line)
        elif count >= partition_rows and offset is not None:
            parts.append(CsvPart(path, tuple(recs.header), start[0], offset, start[1], start[2], label))
            start = (offset, row, line)
            count = 0
        count += 1
    if recs.header is None:
        raise InputError(f"{path}: no header line (the file is empty)")
    if start is None:
        start = (None, 1, (recs.header_line or 1) + 1)
    parts.append(CsvPart(path, tuple(recs.header), start[0], None, start[1], start[2], label))
    # The first partition starts after the header: let it re-read from the top of the file
    # with the header known (offset None = "from the start, skip the header record").
    return parts, stats.rows, stats


def read_csv_part(part: CsvPart) -> pd.DataFrame:
    header = list(part.header)
    stats = ReadStats()
    if part.start_byte is None:
        recs = CsvRecords(part.path, stats=stats, end_byte=part.end_byte)   # reads the header
    else:
        recs = CsvRecords(part.path, stats=stats, start_byte=part.start_byte,
                          end_byte=part.end_byte, header=header, first_row=part.first_row,
                          first_line=part.first_line)
    rows: list[list] = []
    for item in recs:
        if isinstance(item, Reject):
            rows.append([None] * len(header) + [item.row, item.line or 0, item.reason,
                                                item.raw[:300]])
        else:
            row, _line, fields = item
            rows.append(list(fields) + [row, 0, None, None])
    cols = header + [ROW_COLUMN, *_REJ]
    df = pd.DataFrame(rows, columns=cols, dtype=object) if rows else \
        pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    df[ROW_COLUMN] = df[ROW_COLUMN].astype("int64")
    df["_reject_line"] = df["_reject_line"].astype("int64")
    if part.file_label is not None:
        df.insert(len(header) + 1, FILE_COLUMN, pd.Series([part.file_label] * len(df),
                                                          dtype=object, index=df.index))
    return df


def _parquet_file(path: str):
    """A pyarrow ParquetFile for a local path or an fsspec URL."""
    import pyarrow.parquet as pq

    if "://" in path:
        import fsspec

        return pq.ParquetFile(fsspec.open(path, "rb").open())
    return pq.ParquetFile(path)


def read_parquet_part(part: ParquetPart) -> pd.DataFrame:
    df = _parquet_file(part.path).read_row_group(part.row_group).to_pandas()
    n = len(df)
    df[ROW_COLUMN] = pd.Series(range(part.first_row, part.first_row + n), dtype="int64", index=df.index)
    if part.file_label is not None:
        df[FILE_COLUMN] = pd.Series([part.file_label] * n, dtype=object, index=df.index)
    df["_reject_line"] = pd.Series([0] * n, dtype="int64", index=df.index)
    df["_reject_reason"] = pd.Series([None] * n, dtype=object, index=df.index)
    df["_reject_raw"] = pd.Series([None] * n, dtype=object, index=df.index)
    return df


def read_part(part) -> pd.DataFrame:
    return read_csv_part(part) if isinstance(part, CsvPart) else read_parquet_part(part)


# ----------------------------------------------------------------------------- scoring


def score_partition(df: pd.DataFrame, ctx: ScoreContext, columns: dict | None = None) -> pd.DataFrame:
    """Score the good rows of one partition; reject rows pass through with their reason.

    A row whose scoring raised (``errors="mark"``) becomes a reject row as well.
    """
    bad = df["_reject_reason"].notna()
    good = df[~bad].drop(columns=list(_REJ))
    scored = score_frame(good, ctx, columns=columns, errors="mark")
    scored["_reject_line"] = pd.Series(0, index=scored.index, dtype="int64")
    scored["_reject_reason"] = pd.Series(None, index=scored.index, dtype=object)
    scored["_reject_raw"] = pd.Series(None, index=scored.index, dtype=object)
    err = scored["status"] == "error"
    if err.any():
        ing = resolve_columns(good.columns, columns)["ingredients"]
        scored.loc[err, "_reject_reason"] = scored.loc[err, "reasons_against"]
        scored.loc[err, "_reject_raw"] = good.loc[err[err].index, ing].astype(str).str[:300]
    if bad.any():
        idx = df.index[bad]
        rej = {}
        for c, dt in scored.dtypes.items():
            if c in df.columns:
                rej[c] = df.loc[bad, c].astype(dt)
            elif dt.kind in "iu":
                rej[c] = pd.Series(0, index=idx, dtype=dt)
            elif dt.kind == "b":
                rej[c] = pd.Series(False, index=idx, dtype=dt)
            else:
                rej[c] = pd.Series(None, index=idx, dtype=dt)
        scored = pd.concat([scored, pd.DataFrame(rej, index=idx)[list(scored.columns)]])
    return scored


def output_meta(input_meta: pd.DataFrame, ctx: ScoreContext, columns: dict | None) -> pd.DataFrame:
    good = input_meta.drop(columns=list(_REJ))
    meta = score_frame(good, ctx, columns=columns)
    meta["_reject_line"] = pd.Series([], dtype="int64")
    meta["_reject_reason"] = pd.Series([], dtype=object)
    meta["_reject_raw"] = pd.Series([], dtype=object)
    return meta


def score_dask_frame(ddf, context=None, *, columns: dict | None = None):
    """Library API: a Dask DataFrame of products -> the scored Dask DataFrame (lazy)."""
    ctx = ScoreContext.coerce(context)
    meta = score_frame(ddf._meta, ctx, columns=columns)
    return ddf.map_partitions(score_frame, ctx, columns=columns, meta=meta)


# ----------------------------------------------------------------------------- the run


def _plan(paths: list[str], fmt_in: str, partition_rows: int):
    multi = len(paths) > 1
    parts: list = []
    total = 0
    warnings: list[str] = []
    blank = 0
    header = None
    for path in paths:
        label = path if multi else None
        if fmt_in == "csv":
            p, n, stats = plan_csv_parts(path, partition_rows, label=label)
            if header is None:
                header = p[0].header
            elif p[0].header != header:
                raise InputError(f"{path}: its columns differ from {paths[0]}'s; score the files "
                                 "separately")
            parts += p
            total += n
            blank += stats.blank_lines
            warnings += [f"{path}: {w}" for w in stats.warning_lines()]
        else:
            pf = _parquet_file(path)
            first = 1
            for rg in range(pf.num_row_groups):
                parts.append(ParquetPart(path, rg, first, label))
                first += pf.metadata.row_group(rg).num_rows
            total += pf.metadata.num_rows
            if pf.num_row_groups == 0:
                parts.append(ParquetPart(path, -1, 1, label))
    return parts, total, blank, warnings


def _input_meta(part) -> pd.DataFrame:
    if isinstance(part, CsvPart):
        cols = list(part.header)
        df = pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
        df[ROW_COLUMN] = pd.Series([], dtype="int64")
        if part.file_label is not None:
            df[FILE_COLUMN] = pd.Series([], dtype=object)
        for c, dt in zip(_REJ, ("int64", object, object), strict=True):
            df[c] = pd.Series([], dtype=dt)
        return df
    empty = _parquet_file(part.path).schema_arrow.empty_table().to_pandas()
    return read_parquet_part_empty(empty, part)


def read_parquet_part_empty(empty: pd.DataFrame, part: ParquetPart) -> pd.DataFrame:
    df = empty
    df[ROW_COLUMN] = pd.Series([], dtype="int64")
    if part.file_label is not None:
        df[FILE_COLUMN] = pd.Series([], dtype=object)
    df["_reject_line"] = pd.Series([], dtype="int64")
    df["_reject_reason"] = pd.Series([], dtype=object)
    df["_reject_raw"] = pd.Series([], dtype=object)
    return df


def _read_any(part):
    if isinstance(part, ParquetPart) and part.row_group < 0:
        empty = _parquet_file(part.path).schema_arrow.empty_table().to_pandas()
        return read_parquet_part_empty(empty, part)
    return read_part(part)


def run_dask(inp: str, out: str, ctx: ScoreContext, *, fmt_in: str | None = None,
             fmt_out: str | None = None, columns: dict | None = None, partition_rows: int = 5000,
             workers: int = 2, scheduler: str | None = None, client=None) -> RunSummary:
    """Score ``inp`` (path, glob or URL) into the directory ``out`` on a Dask cluster."""
    import dask
    import dask.dataframe as dd
    from dask.delayed import delayed

    t0 = time.perf_counter()
    paths = expand_paths(inp)
    fmt_in = detect_format(paths[0], fmt_in)
    if fmt_in == "jsonl":
        raise InputError("the dask engine reads CSV and Parquet; score JSONL with the local engine")
    if fmt_out is None:
        fmt_out = "csv" if str(out).lower().endswith(".csv") else "parquet"
    if fmt_out not in ("csv", "parquet"):
        raise InputError("the dask engine writes Parquet or CSV (a directory of parts)")
    if "://" in str(out):
        raise InputError("the dask engine writes to a local directory")
    parts, total, blank, warnings = _plan(paths, fmt_in, partition_rows)
    in_meta = _input_meta(parts[0])
    resolve_columns([c for c in in_meta.columns if c not in _REJ], columns)
    target = AtomicPath(out)
    summary = RunSummary(inp, str(out), str(Path(out) / "_rejects"), engine="dask",
                         workers=workers)
    own_cluster = None
    ok = False
    with dask.config.set({"dataframe.convert-string": False}):
        meta = output_meta(in_meta, ctx, columns)
        try:
            if client is None:
                from distributed import Client, LocalCluster

                if scheduler:
                    client = Client(scheduler)
                else:
                    own_cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                               processes=True, dashboard_address=None,
                                               silence_logs=logging.CRITICAL)
                    client = Client(own_cluster)
            ddf = dd.from_map(_read_any, parts, meta=in_meta, enforce_metadata=False)
            ctx_d = delayed(ctx, pure=True)
            scored = ddf.map_partitions(score_partition, ctx_d, columns, meta=meta,
                                        enforce_metadata=False)
            tmp = target.tmp
            tmp.mkdir(parents=True, exist_ok=False)
            (tmp / "_rejects").mkdir()
            schema = arrow_schema(meta.drop(columns=list(_REJ))) if fmt_out == "parquet" else None
            # One task per partition: read -> score -> write both files -> counts. (Writing
            # with to_parquet/to_csv from two filtered views would score every partition
            # twice: Dask does not share a fused upstream between two outputs.)
            written = scored.map_partitions(write_partition, str(tmp), fmt_out, schema,
                                            meta=COUNTS_META, enforce_metadata=False)
            counts = written.compute()
            summary.rows = total
            summary.scored = int(counts["scored"].sum())
            summary.rejected = int(counts["rejected"].sum())
            for v in ("avoid", "caution", "suitable"):
                summary.verdicts[v] = int(counts[v].sum())
            summary.unreadable = int(counts["unreadable"].sum())
            summary.friendly = int(counts["friendly"].sum())
            summary.blank_lines = blank
            summary.warnings = warnings
            if not summary.consistent:
                raise RuntimeError(f"row accounting failed: {summary.scored} scored + "
                                   f"{summary.rejected} rejected != {summary.rows} read")
            summary.seconds = time.perf_counter() - t0
            (tmp / "_summary.json").write_text(json.dumps(summary.to_dict(), indent=2))
            target.commit()
            ok = True
        finally:
            if not ok:
                target.abort()
            if own_cluster is not None:
                client.close()
                own_cluster.close()
    summary.seconds = time.perf_counter() - t0
    return summary


COUNTS_META = pd.DataFrame({c: pd.Series([], dtype="int64") for c in (
    "partition", "scored", "rejected", "avoid", "caution", "suitable", "unreadable", "friendly")})


def write_partition(scored: pd.DataFrame, directory: str, fmt_out: str, schema,
                    partition_info=None) -> pd.DataFrame:
    """Write one scored partition (part file + rejects part); return its counts (one row)."""
    from recommender.batch.io import fast_csv

    n = partition_info["number"] if partition_info else 0
    bad = scored["_reject_reason"].notna()
    good = scored[~bad].drop(columns=list(_REJ))
    rej = scored.loc[bad, [ROW_COLUMN, *_REJ]]
    rej.columns = list(REJECT_COLUMNS)
    rej["line"] = rej["line"].where(rej["line"] > 0).astype("Int64")     # 0: no line (scoring error)
    out = Path(directory)
    if fmt_out == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(good, schema=schema, preserve_index=False)
        pq.write_table(table, out / f"part.{n}.parquet")
    else:
        (out / f"part-{n}.csv").write_text(fast_csv(good, header=True), encoding="utf-8")
    (out / "_rejects" / f"part-{n}.csv").write_text(fast_csv(rej, header=True), encoding="utf-8")
    v = good["verdict"].value_counts()
    row = {"partition": n, "scored": len(good), "rejected": len(rej),
           "avoid": int(v.get("avoid", 0)), "caution": int(v.get("caution", 0)),
           "suitable": int(v.get("suitable", 0)),
           "unreadable": int((good["status"] != "ok").sum()),
           "friendly": int(good["post_procedure_friendly"].sum())}
    return pd.DataFrame({k: pd.Series([val], dtype="int64") for k, val in row.items()})
