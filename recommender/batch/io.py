"""Reading catalogs in bounded chunks and writing results atomically, with a rejects file.

Which real input each rule answers (a retailer's nightly export, a scraped CSV, a vendor's
JSONL, a Parquet dump):

- Formats by extension (``.csv``/``.tsv``/``.txt``, optionally ``.gz``; ``.parquet``/``.pq``;
  ``.jsonl``/``.ndjson``) or ``--format``.
- Encoding: each physical line is decoded as UTF-8; a line that is not valid UTF-8 is read
  as cp1252 (Windows-1252) and counted in a warning with its first line numbers. A UTF-16
  file (byte-order mark) is decoded as UTF-16. A UTF-8 BOM is dropped. Old Mac files
  (CR only) are split on CR.
- Records: Python's csv module (the same quoting rules as pandas). Every record is
  numbered: ``row`` = 1-based data record (the header is not a row; blank lines are skipped
  and counted, not numbered), ``line`` = the physical line where the record starts.
- Rejects (the record, not its content, is broken), each with row, line, reason and the
  first 300 characters of its raw text:
  * a ragged row: fewer fields than the header, or more with non-empty extras (trailing
    empty fields, as left by a trailing comma, are tolerated);
  * broken quoting: a quoted field that never closes swallows the following lines into one
    record. A record spanning several lines whose field count is wrong, or longer than
    ``max_record_lines`` / ``max_record_chars``, is cut back: its first line is rejected
    ("unterminated quote") and the lines after it are read again as records, so one stray
    quote costs one row, not the rest of the file;
  * a JSONL line that is not JSON or not an object.
- Not rejects: an empty, placeholder ("N/A", "see packaging") or prose ingredient field is a
  row like any other; score_frame gives it the protocol's unreadable-list caution.
- Memory: a reader holds one chunk (``chunk_rows`` records) plus, at worst, one runaway
  record (bounded by ``max_record_chars``); a writer streams each chunk to disk.
- Atomic writes: output and rejects go to hidden temporary files beside their targets
  (``.NAME.skinrec-PID.tmp``) and are renamed into place only when the whole run succeeded;
  an interrupted run removes them, and a killed one (SIGKILL) leaves only the hidden
  temporary file, never a half-written OUT.
- Pipes: ``-`` (standard input), ``/dev/stdin``, a named pipe or ``<(zcat catalog.csv.gz)``
  is read once, front to back, as it arrives: the header line the separator is read from is
  kept and read again by the records, never re-opened (a pipe cannot be). Parquet needs a
  file (it is read from its footer).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import re
import shutil
import stat
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

FORMATS = ("csv", "parquet", "jsonl")
ROW_COLUMN = "input_row"
REJECT_COLUMNS = ("row", "line", "reason", "raw")
RAW_CHARS = 300


class InputError(ValueError):
    """The input cannot be read at all (missing, no header, unknown format)."""


def detect_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    if fmt:
        fmt = fmt.lower()
        if fmt in ("ndjson", "json"):
            fmt = "jsonl"
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    name = str(path).lower()
    if name == "-":
        return "csv"                     # standard input: CSV unless --format says otherwise
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    raise InputError(f"cannot tell the format of {path} from its extension; pass --format csv|parquet|jsonl")


@dataclass
class Reject:
    row: int | None
    line: int | None
    reason: str
    raw: str = ""

    def as_tuple(self) -> tuple:
        return (self.row, self.line, self.reason, self.raw[:RAW_CHARS])


@dataclass
class ReadStats:
    rows: int = 0                   # data records seen (accepted + rejected)
    rejected: int = 0
    blank_lines: int = 0
    cp1252_lines: int = 0
    cp1252_examples: list[int] = field(default_factory=list)
    encoding: str = "utf-8"
    bytes_read: int = 0
    warnings: list[str] = field(default_factory=list)

    def warning_lines(self) -> list[str]:
        out = list(self.warnings)
        if self.cp1252_lines:
            ex = ", ".join(map(str, self.cp1252_examples))
            more = " ..." if self.cp1252_lines > len(self.cp1252_examples) else ""
            out.append(f"{self.cp1252_lines} line(s) not valid UTF-8, read as cp1252 "
                       f"(Windows-1252): line {ex}{more}")
        return out


@dataclass
class Chunk:
    frame: pd.DataFrame             # input columns + ROW_COLUMN
    rejects: list[Reject]


# ----------------------------------------------------------------------------- lines


def is_stream(path: str | os.PathLike) -> bool:
    """True for ``-`` (standard input) and for anything that is not a regular file: a pipe, a
    named pipe, ``/dev/stdin``. Such an input can be opened and read only once."""
    p = str(path)
    if p == "-":
        return True
    if "://" in p:
        return False
    try:
        mode = os.stat(p).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _open_binary(path: str | os.PathLike):
    p = str(path)
    if p == "-":
        return open(os.dup(sys.stdin.fileno()), "rb")  # noqa: SIM115 - the caller closes it
    if p.endswith(".gz"):
        return gzip.open(p, "rb")
    if "://" in p:
        import fsspec

        return fsspec.open(p, "rb", compression="infer").open()
    return open(p, "rb")


class _Lines:
    """Physical lines as text, decoded one by one (UTF-8, else cp1252), with push-back.

    ``taken`` holds the lines consumed since the last :meth:`take`, so the CSV layer knows
    exactly which lines made a record.
    """

    def __init__(self, fh, stats: ReadStats, *, start_line: int = 1, limit_bytes: int | None = None,
                 base_offset: int = 0):
        self.stats = stats
        self.lineno = start_line - 1
        self.offset = base_offset           # byte offset of the next undecoded line
        self.pending: deque[tuple[int, str, int | None]] = deque()
        self.taken: list[tuple[int, str, int | None]] = []
        self.chars = 0
        self.max_lines = 0
        self.max_chars = 0
        self._it = self._decode(fh, limit_bytes)

    def _decode(self, fh, limit_bytes):
        head = fh.read(4) if limit_bytes is None or limit_bytes > 0 else b""
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self.stats.encoding = "utf-16"
            text = io.TextIOWrapper(io.BufferedReader(_Prefixed(head, fh)), encoding="utf-16",
                                    newline="")
            self.offset = None               # byte offsets are not tracked in UTF-16
            for line in text:
                self.stats.bytes_read += len(line) * 2
                yield line, None
            return
        if head.startswith(codecs.BOM_UTF8):
            head = head[3:]
            self.stats.bytes_read += 3
            self.offset += 3
        first = head + fh.readline()
        for raw in _iter_lines(first, fh, limit_bytes):
            off = self.offset
            self.offset += len(raw)
            self.stats.bytes_read += len(raw)
            try:
                yield raw.decode("utf-8"), off
            except UnicodeDecodeError:
                self.stats.cp1252_lines += 1
                if len(self.stats.cp1252_examples) < 5:
                    self.stats.cp1252_examples.append(self.lineno + 1)
                yield raw.decode("cp1252", errors="replace"), off

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.pending:
            n, s, off = self.pending.popleft()
            self.lineno = n
        else:
            s, off = next(self._it)
            self.lineno += 1
            n = self.lineno
        self.taken.append((n, s, off))
        self.chars += len(s)
        if (self.max_lines and len(self.taken) > self.max_lines) or \
                (self.max_chars and self.chars > self.max_chars):
            raise _Runaway
        return s

    def take(self) -> list[tuple[int, str, int | None]]:
        out, self.taken, self.chars = self.taken, [], 0
        return out

    def push_back(self, lines: list[tuple[int, str, int | None]]) -> None:
        self.pending.extendleft(reversed(lines))


class _Prefixed(io.RawIOBase):
    """A binary stream with a few bytes put back in front."""

    def __init__(self, head: bytes, fh):
        self.head = head
        self.fh = fh

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self.fh.close()
        super().close()

    def readinto(self, b) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        # read1: what has arrived, so a pipe is read as it comes instead of in full buffers
        data = self.fh.read1(len(b)) if hasattr(self.fh, "read1") else self.fh.read(len(b))
        b[:len(data)] = data
        return len(data)


def _iter_lines(first: bytes, fh, limit_bytes: int | None) -> Iterator[bytes]:
    """Binary lines; CR-only files (old Mac) are split on CR; stop after ``limit_bytes``."""
    if b"\n" not in first and b"\r" in first:
        rest = first + fh.read()
        for part in rest.split(b"\r"):
            yield part + b"\r\n"
        return
    used = 0
    if first:
        used += len(first)
        yield first
    for raw in fh:
        if limit_bytes is not None and used >= limit_bytes:
            return
        used += len(raw)
        yield raw


class _Runaway(Exception):
    pass


# ----------------------------------------------------------------------------- CSV


def _dedupe_header(fields: list[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, f in enumerate(fields):
        name = f.strip() or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _sniff_delimiter(path: str) -> str:
    """The separator an output file gets: a tab for .tsv, else a comma."""
    return "\t" if str(path).lower().removesuffix(".gz").endswith(".tsv") else ","


_QUOTED = re.compile(r'"[^"]*"')
_OTHER_SEPARATORS = (";", "\t", "|")


def header_delimiter(path) -> str | None:
    """The separator an input CSV uses, read off its header line: a comma whenever the header
    holds one outside quotes, else the semicolon, tab or pipe it holds most (spreadsheet
    exports in European locales write "product_id;name;ingredients"); None when the header
    holds none of them (one column, or no file: the reader then says what is wrong)."""
    try:
        fh = _open_binary(path)
    except OSError:
        return None
    try:
        return _header_delimiter(fh)
    finally:
        fh.close()


def _header_delimiter(fh) -> str | None:
    """:func:`header_delimiter` of an open binary stream (read up to its first non-blank
    line, decoded as the records are: BOMs, UTF-16, cp1252 lines, CR-only files)."""
    try:
        src = _Lines(fh, ReadStats())
        line = ""
        for line in src:
            if line.strip():
                break
    except (OSError, EOFError, UnicodeError):
        return None
    return _delimiter_of(line)


def _delimiter_of(line: str) -> str | None:
    outside = _QUOTED.sub("", line)
    if "," in outside:
        return ","
    counts = {d: outside.count(d) for d in _OTHER_SEPARATORS}
    best = max(counts, key=counts.get)
    return best if counts[best] else None


class _Recorder(io.RawIOBase):
    """A binary stream that keeps every byte read from it (``seen``)."""

    def __init__(self, fh):
        self.fh = fh
        self.seen = bytearray()

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.fh.read1(len(b)) if hasattr(self.fh, "read1") else self.fh.read(len(b))
        b[:len(data)] = data
        self.seen += data
        return len(data)


class _HeldStream:
    """A pipe opened once: its separator read off the header line as a file's is
    (:func:`header_delimiter`), and every byte that reading took kept to be read again by
    the records."""

    def __init__(self, path):
        self.fh = _open_binary(path)
        seen = _Recorder(self.fh)
        self.delimiter = _header_delimiter(io.BufferedReader(seen))
        self.head = bytes(seen.seen)

    def open(self):
        """The whole stream from its first byte: the held head, then the rest as it arrives."""
        fh, self.fh = self.fh, None
        if fh is None:
            raise InputError("a pipe can be read only once")
        return io.BufferedReader(_Prefixed(self.head, fh))


class CsvRecords:
    """Record iterator over one CSV file: yields (row, line, fields) or a Reject."""

    def __init__(self, path, *, delimiter: str | None = None, max_record_lines: int = 200,
                 max_record_chars: int = 1_000_000, stats: ReadStats | None = None,
                 start_byte: int = 0, end_byte: int | None = None, header: list[str] | None = None,
                 first_row: int = 1, first_line: int = 1):
        self.path = str(path)
        self.stats = stats or ReadStats()
        self._held = None
        if delimiter is None:
            delimiter = _sniff_delimiter(path)
            if delimiter == ",":
                if is_stream(path):
                    try:
                        self._held = _HeldStream(path)
                    except OSError as exc:
                        raise InputError(f"{path}: cannot be read: {exc}") from None
                    found = self._held.delimiter
                else:
                    found = header_delimiter(path)
                if found is not None and found != ",":
                    delimiter = found
                    name = {";": "semicolons", "\t": "tabs", "|": "pipes"}[found]
                    self.stats.warnings.append(f"fields separated by {name} (read from the "
                                               "header line)")
        self.delimiter = delimiter
        self.max_record_lines = max_record_lines
        self.max_record_chars = max_record_chars
        self.header = header
        self.start_byte = start_byte
        self.end_byte = end_byte
        self.next_row = first_row
        self.first_line = first_line
        self.header_line = None
        self.last_offset: int | None = None      # byte offset where the last record started
        self.last_single_line = True

    def __iter__(self):
        fh = self._held.open() if self._held is not None else _open_binary(self.path)
        try:
            if self.start_byte:
                fh.seek(self.start_byte)
            limit = None if self.end_byte is None else self.end_byte - self.start_byte
            src = _Lines(fh, self.stats, start_line=self.first_line, limit_bytes=limit,
                         base_offset=self.start_byte)
            src.max_lines = self.max_record_lines
            src.max_chars = self.max_record_chars
            yield from self._records(src)
        finally:
            fh.close()

    def _records(self, src: _Lines):
        csv.field_size_limit(max(self.max_record_chars * 2, 131072))
        ncols = len(self.header) if self.header else None
        while True:
            reader = csv.reader(src, delimiter=self.delimiter)
            try:
                for fields in reader:
                    lines = src.take()
                    if not fields or (len(fields) == 1 and not fields[0].strip() and len(lines) == 1):
                        self.stats.blank_lines += len(lines)
                        continue
                    start = lines[0][0]
                    if ncols is None:
                        self.header = _dedupe_header(fields)
                        self.header_line = start
                        ncols = len(self.header)
                        continue
                    if len(fields) != ncols:
                        if len(fields) > ncols and not any(f.strip() for f in fields[ncols:]):
                            fields = fields[:ncols]
                        elif len(lines) > 1:
                            yield self._reject(start, lines[0][1], "unterminated quote: a quoted "
                                               "field opened here does not close on this line")
                            src.push_back(lines[1:])
                            break              # restart the csv reader after the bad line
                        else:
                            yield self._reject(start, lines[0][1], f"ragged row: {len(fields)} "
                                               f"fields, the header has {ncols}"
                                               + (" (unquoted commas in a field?)"
                                                  if len(fields) > ncols else ""))
                            continue
                    row = self.next_row
                    self.next_row += 1
                    self.stats.rows += 1
                    self.last_offset = lines[0][2]
                    self.last_single_line = len(lines) == 1
                    yield row, start, fields
                else:
                    return
            except _Runaway:
                lines = src.take()
                yield self._reject(lines[0][0], lines[0][1], "unterminated quote: the record "
                                   f"runs over {self.max_record_lines} lines or "
                                   f"{self.max_record_chars} characters")
                src.push_back(lines[1:])
            except csv.Error as exc:
                lines = src.take()
                if not lines:
                    return
                yield self._reject(lines[0][0], lines[0][1], f"unreadable CSV record: {exc}")
                src.push_back(lines[1:])

    def _reject(self, line: int, raw: str, reason: str) -> Reject:
        row = self.next_row
        self.next_row += 1
        self.stats.rows += 1
        self.stats.rejected += 1
        return Reject(row, line, reason, raw.rstrip("\r\n"))


def read_csv_chunks(path, *, chunk_rows: int = 5000, stats: ReadStats | None = None,
                    delimiter: str | None = None, **kw) -> Iterator[Chunk]:
    stats = stats if stats is not None else ReadStats()
    recs = CsvRecords(path, delimiter=delimiter, stats=stats, **kw)
    rows: list[list[str]] = []
    numbers: list[int] = []
    rejects: list[Reject] = []
    for item in recs:
        if isinstance(item, Reject):
            rejects.append(item)
        else:
            row, _line, fields = item
            rows.append(fields)
            numbers.append(row)
        if len(rows) + len(rejects) >= chunk_rows:
            yield Chunk(_frame(recs.header, rows, numbers), rejects)
            rows, numbers, rejects = [], [], []
    if recs.header is None:
        raise InputError(f"{path}: no header line (the file is empty)")
    if rows or rejects or stats.rows == 0:
        yield Chunk(_frame(recs.header, rows, numbers), rejects)


def _frame(header: list[str] | None, rows: list[list[str]], numbers: list[int]) -> pd.DataFrame:
    header = list(header or [])
    if rows:
        df = pd.DataFrame(rows, columns=header, dtype=object)
    else:
        df = pd.DataFrame({c: pd.Series([], dtype=object) for c in header})
    df[ROW_COLUMN] = pd.Series(numbers, dtype="int64", index=df.index)
    return df


# ----------------------------------------------------------------------------- JSONL


def read_jsonl_chunks(path, *, chunk_rows: int = 5000, stats: ReadStats | None = None) -> Iterator[Chunk]:
    """One JSON object per line; values that are not strings are carried as JSON text."""
    stats = stats if stats is not None else ReadStats()
    columns: list[str] | None = None
    extra_keys: set[str] = set()
    rows: list[list] = []
    numbers: list[int] = []
    rejects: list[Reject] = []
    fh = _open_binary(path)
    try:
        src = _Lines(fh, stats)
        for text in src:
            src.take()
            if not text.strip():
                stats.blank_lines += 1
                continue
            stats.rows += 1
            row_no = stats.rows
            try:
                obj = json.loads(text)
            except ValueError as exc:
                rejects.append(Reject(row_no, src.lineno, f"invalid JSON: {exc}", text.rstrip()))
                stats.rejected += 1
            else:
                if not isinstance(obj, dict):
                    rejects.append(Reject(row_no, src.lineno,
                                          f"not a JSON object (a {type(obj).__name__})", text.rstrip()))
                    stats.rejected += 1
                else:
                    if columns is None:
                        columns = list(obj)
                    extra_keys.update(k for k in obj if k not in columns)
                    rows.append([_jsonl_value(obj.get(c)) for c in columns])
                    numbers.append(row_no)
            if len(rows) + len(rejects) >= chunk_rows:
                yield Chunk(_frame(columns, rows, numbers), rejects)
                rows, numbers, rejects = [], [], []
    finally:
        fh.close()
    if extra_keys:
        stats.warnings.append("fields absent from the first record were not kept: "
                              + ", ".join(sorted(map(str, extra_keys))[:10]))
    if rows or rejects or stats.rows == 0:
        yield Chunk(_frame(columns, rows, numbers), rejects)


def _jsonl_value(v):
    if v is None or isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False)


# ----------------------------------------------------------------------------- Parquet


def read_parquet_chunks(path, *, chunk_rows: int = 5000, stats: ReadStats | None = None) -> Iterator[Chunk]:
    import pyarrow.parquet as pq

    stats = stats if stats is not None else ReadStats()
    pf = pq.ParquetFile(str(path))
    n = 0
    got_any = False
    for batch in pf.iter_batches(batch_size=chunk_rows):
        df = batch.to_pandas()
        df[ROW_COLUMN] = pd.Series(range(n + 1, n + 1 + len(df)), dtype="int64", index=df.index)
        n += len(df)
        stats.rows += len(df)
        got_any = True
        yield Chunk(df, [])
    if not got_any:
        df = pf.schema_arrow.empty_table().to_pandas()
        df[ROW_COLUMN] = pd.Series([], dtype="int64")
        yield Chunk(df, [])


def read_chunks(path, fmt: str, *, chunk_rows: int = 5000, stats: ReadStats | None = None) -> Iterator[Chunk]:
    if not str(path).startswith(("-",)) and "://" not in str(path) and not Path(path).exists():
        raise InputError(f"{path}: no such file")
    if fmt == "csv":
        return read_csv_chunks(path, chunk_rows=chunk_rows, stats=stats)
    if fmt == "jsonl":
        return read_jsonl_chunks(path, chunk_rows=chunk_rows, stats=stats)
    if is_stream(path):
        raise InputError(f"{path}: Parquet is read from its footer, so it must be a file, not a "
                         "pipe; save it first or send CSV or JSONL")
    return read_parquet_chunks(path, chunk_rows=chunk_rows, stats=stats)


# ----------------------------------------------------------------------------- writing


def temp_path_for(final: Path) -> Path:
    return final.with_name(f".{final.name}.skinrec-{os.getpid()}.tmp")


class AtomicPath:
    """A temporary path beside ``final``; :meth:`commit` renames it into place."""

    def __init__(self, final: str | os.PathLike):
        self.final = Path(final)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temp_path_for(self.final)
        self.committed = False

    def commit(self) -> None:
        if self.final.is_dir() and not self.tmp.is_dir():
            raise InputError(f"{self.final} is a directory")
        if self.tmp.is_dir() and self.final.exists():
            old = self.final.with_name(f".{self.final.name}.skinrec-old-{os.getpid()}")
            os.replace(self.final, old)
            os.replace(self.tmp, self.final)
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
        else:
            os.replace(self.tmp, self.final)
        self.committed = True

    def abort(self) -> None:
        if self.committed:
            return
        if self.tmp.is_dir():
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            self.tmp.unlink(missing_ok=True)


class _Writer:
    def __init__(self, path):
        self.atomic = AtomicPath(path)
        self.rows = 0

    def write(self, df: pd.DataFrame) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def commit(self) -> None:
        self.close()
        self.atomic.commit()

    def abort(self) -> None:
        try:
            self.close()
        finally:
            self.atomic.abort()


class CsvWriter(_Writer):
    def __init__(self, path, *, delimiter: str = ","):
        super().__init__(path)
        self.fh = open(self.atomic.tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed in close()
        self.header = True
        self.delimiter = delimiter

    def write(self, df: pd.DataFrame) -> None:
        df.to_csv(self.fh, index=False, header=self.header, sep=self.delimiter,
                  lineterminator="\n")
        self.header = False
        self.rows += len(df)

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.close()


class JsonlWriter(_Writer):
    JSON_COLUMNS = ("flags", "reasons_for", "reasons_against", "unrecognized")

    def __init__(self, path):
        super().__init__(path)
        self.fh = open(self.atomic.tmp, "w", encoding="utf-8", newline="\n")  # noqa: SIM115

    def write(self, df: pd.DataFrame) -> None:
        if len(df) == 0:
            return
        out = df.copy()
        for c in self.JSON_COLUMNS:          # embed the JSON columns as JSON, not as text
            if c in out.columns:
                out[c] = [json.loads(v) if isinstance(v, str) and v else v for v in out[c]]
        text = out.to_json(orient="records", lines=True, force_ascii=False)
        self.fh.write(text if text.endswith("\n") else text + "\n")
        self.rows += len(df)

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.close()


class ParquetWriter(_Writer):
    def __init__(self, path):
        super().__init__(path)
        self.writer = None
        self.schema = None

    def write(self, df: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.schema is None:
            self.schema = arrow_schema(df)
            self.writer = pq.ParquetWriter(str(self.atomic.tmp), self.schema)
        table = pa.Table.from_pandas(df, schema=self.schema, preserve_index=False)
        self.writer.write_table(table)
        self.rows += len(df)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def commit(self) -> None:
        if self.schema is None:               # no chunk at all: still write a valid empty file
            raise InputError("nothing to write")
        super().commit()


def arrow_schema(df: pd.DataFrame):
    """Arrow schema for a chunk; text and all-null columns become strings (stable across chunks)."""
    import pyarrow as pa

    schema = pa.Schema.from_pandas(df, preserve_index=False)
    fields = []
    for f in schema:
        if pa.types.is_null(f.type) or pa.types.is_large_string(f.type):
            f = f.with_type(pa.string())
        fields.append(f)
    return pa.schema(fields)


def make_writer(path, fmt: str) -> _Writer:
    if fmt == "csv":
        return CsvWriter(path, delimiter=_sniff_delimiter(path))
    if fmt == "jsonl":
        return JsonlWriter(path)
    return ParquetWriter(path)


class RejectsWriter(CsvWriter):
    def write_rejects(self, rejects: list[Reject]) -> None:
        df = pd.DataFrame([r.as_tuple() for r in rejects], columns=list(REJECT_COLUMNS))
        if len(df) or self.header:
            self.write(df.astype({"row": "Int64", "line": "Int64"}))


def default_rejects_path(out: str | os.PathLike) -> Path:
    p = Path(out)
    name = p.name
    for ext in (".csv.gz", ".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson", ".json"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
            break
    return p.with_name(f"{name}.rejects.csv")


# ----------------------------------------------------------------------------- fast text output
#
# The output rows carry long JSON text (flags: ~4 KB a product). Python's csv writer and
# DataFrame.to_csv quote such fields character by character (~0.2 ms a row); quoting with
# str.replace is ~10x faster and gives the same CSV (RFC 4180 minimal quoting).


def _csv_text_column(values, delimiter: str) -> list[str]:
    out = []
    append = out.append
    for v in values:
        if type(v) is not str:
            if v is None:
                append("")
                continue
            if isinstance(v, float):
                append("" if v != v else repr(v))
                continue
            if v is pd.NA or v is pd.NaT:
                append("")
                continue
            v = str(v)
        if '"' in v or delimiter in v or "\n" in v or "\r" in v:
            append('"' + v.replace('"', '""') + '"')
        else:
            append(v)
    return out


def _csv_column(series: pd.Series, delimiter: str) -> list[str]:
    kind = series.dtype.kind
    if kind == "f":
        return ["" if v != v else repr(v) for v in series.tolist()]
    if kind in "iub" and not series.hasnans:
        return [str(v) for v in series.tolist()]
    return _csv_text_column(series.tolist(), delimiter)


def fast_csv(df: pd.DataFrame, *, delimiter: str = ",", header: bool = False) -> str:
    """``df`` as CSV text (minimal quoting, "\\n" line ends, NaN/None empty), no index."""
    cols = [_csv_column(df[c], delimiter) for c in df.columns] if len(df.columns) else []
    lines = []
    if header:
        lines.append(delimiter.join(_csv_text_column([str(c) for c in df.columns], delimiter)))
    if len(df):
        lines.extend(delimiter.join(r) for r in zip(*cols, strict=True))
    return "\n".join(lines) + "\n" if lines else ""


def _json_column(series: pd.Series, raw_json: bool) -> list[str]:
    kind = series.dtype.kind
    values = series.tolist()
    if kind == "f":
        return ["null" if v != v else repr(v) for v in values]
    if kind == "b":
        return ["true" if v else "false" for v in values]
    if kind in "iu" and not series.hasnans:
        return [str(v) for v in values]
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
            out.append("null")
        elif raw_json and isinstance(v, str) and v:
            out.append(v)                      # already JSON text (flags, reasons ...)
        elif isinstance(v, str):
            out.append(json.dumps(v, ensure_ascii=False))
        else:
            out.append(json.dumps(v, ensure_ascii=False, default=str))
    return out


def fast_jsonl(df: pd.DataFrame, *, json_columns=("flags", "reasons_for", "reasons_against",
                                                  "unrecognized")) -> str:
    """One JSON object per row; ``json_columns`` (JSON text) are embedded as JSON values."""
    if not len(df):
        return ""
    keys = [json.dumps(str(c), ensure_ascii=False) + ":" for c in df.columns]
    cols = [[k + v for v in _json_column(df[c], c in json_columns)]
            for k, c in zip(keys, df.columns, strict=True)]
    return "".join("{" + ",".join(r) + "}\n" for r in zip(*cols, strict=True))
