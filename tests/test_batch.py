"""`skinrec score` on files: formats, bad input, row accounting, atomic writes, workers, kills.

Inputs are real products (sephora_2023 rows from the data directory) written to files,
then broken the ways scraped and exported catalogs break: ragged rows, a quote that never
closes, Windows-1252 bytes, blank lines, empty and placeholder fields, BOMs, CRLF, CR-only
and UTF-16 files, bad JSON lines.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from recommender.batch import local as local_engine
from recommender.batch.io import fast_csv, read_csv_chunks
from recommender.batch.local import run_local
from recommender.cli import main
from recommender.scoring import make_score_context

pytestmark = pytest.mark.data

COLS = ["product_id", "name", "category", "ingredients"]


@pytest.fixture(scope="module")
def rows(catalogs):
    df = catalogs("sephora_2023")
    return df[COLS].iloc[2000:2060].reset_index(drop=True)


def write_csv(path: Path, df: pd.DataFrame, *, extra_lines: dict[int, bytes] | None = None,
              encoding: str = "utf-8", newline: bytes = b"\n", bom: bytes = b"") -> int:
    """Write ``df`` as CSV, inserting raw ``extra_lines`` before data row i (0-based)."""
    text = df.to_csv(index=False, lineterminator="\n")
    lines = [ln.encode(encoding) for ln in text.split("\n")[:-1]]
    for i in sorted(extra_lines or {}, reverse=True):
        lines.insert(i + 1, extra_lines[i])
    path.write_bytes(bom + newline.join(lines) + newline)
    return len(df)


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return res


def read_out(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def summary_numbers(stderr: str) -> tuple[int, int, int]:
    line = next(ln for ln in stderr.splitlines() if ln.startswith("read "))
    words = line.replace(",", "").split()
    return int(words[1]), int(words[3]), int(words[7])


# --- every row accounted for --------------------------------------------------------------


def test_bad_csv_every_row_accounted_for(tmp_path, rows):
    df = rows.head(30).copy()
    df.loc[3, "ingredients"] = ""                     # empty field: a row, not a reject
    df.loc[4, "ingredients"] = "N/A"                  # placeholder: a row, not a reject
    inp = tmp_path / "in.csv"
    write_csv(inp, df, extra_lines={
        5: b"X1,Ragged,Water,Glycerin,Extra,More",           # ragged: too many fields
        10: b'X2,Broken,Cleansers,"Water, Glycerin',          # a quote that never closes
        12: b"",                                             # blank line (not a row)
        15: "X3,Cr\u00e8me caf\u00e9,Moisturizers,\"Aqua, Glycerin\"".encode("cp1252"),
        20: b"X4,Short",                                     # ragged: too few fields
    })
    out = tmp_path / "out.csv"
    res = run("score", inp, "-o", out, "--day", "2", "--no-models")
    assert res.exit_code == 0, res.output
    n_rows, n_scored, n_rejected = summary_numbers(res.stderr)
    assert (n_rows, n_scored, n_rejected) == (30 + 4, 31, 3)
    scored = read_out(out)
    rejects = read_out(tmp_path / "out.rejects.csv")
    assert len(scored) == n_scored and len(rejects) == n_rejected
    # every row number 1..N is in exactly one of the two files
    numbers = sorted([int(x) for x in scored["input_row"]] + [int(x) for x in rejects["row"]])
    assert numbers == list(range(1, n_rows + 1))
    reasons = dict(zip(rejects["raw"].str[:2], rejects["reason"], strict=True))
    assert reasons["X1"].startswith("ragged row: 6 fields, the header has 4")
    assert reasons["X2"].startswith("unterminated quote")
    assert reasons["X4"].startswith("ragged row: 2 fields")
    x2 = rejects[rejects["raw"].str.startswith("X2")].iloc[0]
    assert int(x2["line"]) == 13                   # header line 1, X2 inserted before row 10
    # the cp1252 row is read, decoded, and warned about with its line number
    creme = scored[scored["product_id"] == "X3"].iloc[0]
    assert creme["name"] == "Cr\u00e8me caf\u00e9" and creme["status"] == "ok"
    assert "cp1252" in res.stderr and "line 20" in res.stderr
    assert "1 blank line(s) skipped" in res.stderr
    # empty and placeholder fields: in the output with the unreadable-list caution
    for pid in (df.loc[3, "product_id"], df.loc[4, "product_id"]):
        row = scored[scored["product_id"] == pid].iloc[0]
        assert row["status"] != "ok" and row["verdict"] == "caution"
        assert "unreadable_list" in {f["rule"] for f in json.loads(row["flags"])}
    # input columns kept, in order, first
    assert list(scored.columns[:5]) == COLS + ["input_row"]


def test_unclosed_quote_costs_one_row(tmp_path, rows):
    df = pd.concat([rows] * 5, ignore_index=True)       # 300 rows
    inp = tmp_path / "in.csv"
    write_csv(inp, df, extra_lines={2: b'Q,"never closed,Cleansers,Water'})
    res = run("score", inp, "-o", tmp_path / "o.csv", "--no-models")
    assert res.exit_code == 0, res.output
    assert summary_numbers(res.stderr) == (301, 300, 1)


def test_reader_stops_runaway_records(tmp_path):
    body = "a,b,ingredients\n" + '1,"x,Water\n' + "".join(f"{i},n,Water\n" for i in range(2, 400))
    p = tmp_path / "r.csv"
    p.write_text(body)
    chunks = list(read_csv_chunks(p, chunk_rows=1000, max_record_lines=50))
    assert sum(len(c.rejects) for c in chunks) == 1
    assert sum(len(c.frame) for c in chunks) == 398


@pytest.mark.parametrize("variant", ["bom_crlf", "utf16", "cr_only", "tsv", "gzip", "semicolon",
                                     "semicolon_cp1252"])
def test_encodings_and_line_ends(tmp_path, rows, variant):
    df = rows.head(12)
    plain = tmp_path / "plain.csv"
    write_csv(plain, df)
    inp = tmp_path / ("in.tsv" if variant == "tsv" else "in.csv.gz" if variant == "gzip" else "in.csv")
    if variant == "bom_crlf":
        write_csv(inp, df, newline=b"\r\n", bom=b"\xef\xbb\xbf")
    elif variant == "utf16":
        inp.write_bytes(df.to_csv(index=False).encode("utf-16"))
    elif variant == "cr_only":
        write_csv(inp, df, newline=b"\r")
    elif variant == "tsv":
        df.to_csv(inp, sep="\t", index=False)
    elif variant.startswith("semicolon"):
        # a European spreadsheet export: ";" between fields, the header says so
        enc = "cp1252" if variant.endswith("cp1252") else "utf-8-sig"
        inp.write_bytes(df.to_csv(index=False, sep=";").encode(enc, errors="replace"))
    else:
        df.to_csv(inp, index=False, compression="gzip")
    ref = tmp_path / "ref.csv"
    out = tmp_path / ("out.tsv" if variant == "tsv" else "out.csv")
    assert run("score", plain, "-o", ref, "--no-models").exit_code == 0
    res = run("score", inp, "-o", out, "--no-models")
    assert res.exit_code == 0, res.output
    if variant.startswith("semicolon"):
        assert "fields separated by semicolons (read from the header line)" in res.output
    sep = "\t" if variant == "tsv" else ","
    got = pd.read_csv(out, dtype=str, keep_default_na=False, sep=sep)
    pd.testing.assert_frame_equal(got, read_out(ref))


@pytest.mark.parametrize("variant", ["semicolon", "utf16", "gzip"])
def test_named_pipe_reads_like_the_file(tmp_path, rows, variant):
    """`skinrec score <(zcat catalog.csv.gz)` or a named pipe: opened once and read as it
    arrives (a pipe cannot be re-opened to read the header's separator again)."""
    import threading

    df = rows.head(12)
    data = {"semicolon": lambda: df.to_csv(index=False, sep=";").encode("utf-8-sig"),
            "utf16": lambda: df.to_csv(index=False).encode("utf-16"),
            "gzip": lambda: __import__("gzip").compress(df.to_csv(index=False).encode())}[variant]()
    plain, ref, out = tmp_path / "plain.csv", tmp_path / "ref.csv", tmp_path / "out.csv"
    write_csv(plain, df)
    fifo = tmp_path / ("in.csv.gz" if variant == "gzip" else "in.csv")
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as fh:                 # blocks until the run opens it
            fh.write(data)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    res = run("score", fifo, "-o", out, "--no-models", "--progress")
    feeder.join(timeout=30)
    assert res.exit_code == 0, res.output
    assert run("score", plain, "-o", ref, "--no-models").exit_code == 0
    pd.testing.assert_frame_equal(read_out(out), read_out(ref))
    assert ("fields separated by semicolons" in res.output) == (variant == "semicolon")


def test_standard_input(tmp_path, rows):
    """`cat catalog.csv | skinrec score - -o out.csv`: CSV from standard input; Parquet cannot
    come through a pipe (it is read from its footer) and the dask engine needs a file: both
    refused with a message and exit code 2, nothing written."""
    df = rows.head(20)
    plain, ref = tmp_path / "plain.csv", tmp_path / "ref.csv"
    write_csv(plain, df)
    assert run("score", plain, "-o", ref, "--no-models").exit_code == 0
    code = "import sys; from recommender.cli import main; sys.argv[0] = 'skinrec'; main()"

    def score(*args):
        return subprocess.run([sys.executable, "-c", code, "score", "-", *map(str, args), "--no-models"],
                              input=plain.read_bytes(), capture_output=True,
                              cwd=str(Path(__file__).parent.parent))

    res = score("-o", tmp_path / "out.csv")
    assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(read_out(tmp_path / "out.csv"), read_out(ref))
    for args, says in [(("--input-format", "parquet", "-o", tmp_path / "p.csv"), "must be a file, not a pipe"),
                       (("--engine", "dask", "-o", tmp_path / "d"), "score a pipe with the local engine")]:
        res = score(*args)
        assert res.returncode == 2 and says in res.stderr.decode(), res.stderr
        assert "Traceback" not in res.stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.rejects.csv", "plain.csv",
                                                          "ref.csv", "ref.rejects.csv"]


# --- formats ------------------------------------------------------------------------------


def test_parquet_and_jsonl(tmp_path, rows):
    pytest.importorskip("pyarrow")
    df = rows.head(25)
    pq_in = tmp_path / "in.parquet"
    df.to_parquet(pq_in, index=False)
    csv_ref = tmp_path / "ref.csv"
    write_csv(tmp_path / "in.csv", df)
    assert run("score", tmp_path / "in.csv", "-o", csv_ref, "--day", "3").exit_code == 0
    ref = pd.read_csv(csv_ref, keep_default_na=False)

    assert run("score", pq_in, "-o", tmp_path / "o.parquet", "--day", "3").exit_code == 0
    got = pd.read_parquet(tmp_path / "o.parquet")
    assert len(got) == 25 and list(got["verdict"]) == list(ref["verdict"])
    assert got["post_needling_score"].dtype == "float64"
    assert list(got["product_id"]) == list(df["product_id"])

    # JSONL in, with a broken line and a non-object line; JSONL out embeds the JSON columns
    lines = [json.dumps(r) for r in df.to_dict("records")]
    lines.insert(3, "{not json")
    lines.insert(7, "[1, 2]")
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    res = run("score", tmp_path / "in.jsonl", "-o", tmp_path / "o.jsonl", "--day", "3")
    assert res.exit_code == 0, res.output
    assert summary_numbers(res.stderr) == (27, 25, 2)
    records = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [r["verdict"] for r in records] == list(ref["verdict"])
    assert isinstance(records[0]["flags"], list) and isinstance(records[0]["unrecognized"], list)
    rej = read_out(tmp_path / "o.rejects.csv")
    assert list(rej["row"]) == ["4", "8"] and rej["reason"][0].startswith("invalid JSON")

    # --format overrides the extension
    assert run("score", pq_in, "-o", tmp_path / "o.data", "--format", "csv").exit_code == 0
    assert len(read_out(tmp_path / "o.data")) == 25


def test_map_columns_and_missing_column(tmp_path, catalogs):
    df = catalogs("lookfantastic_2020").head(15).rename(
        columns={"ingredients": "clean_ingreds", "name": "product_name"})
    inp = tmp_path / "lf.csv"
    df.to_csv(inp, index=False)
    res = run("score", inp, "-o", tmp_path / "o.csv", "--no-models", "--map",
              "ingredients=clean_ingreds,name=product_name")
    assert res.exit_code == 0, res.output
    assert (read_out(tmp_path / "o.csv")["status"] == "ok").sum() >= 13
    df.drop(columns=["clean_ingreds"]).to_csv(tmp_path / "none.csv", index=False)
    res = run("score", tmp_path / "none.csv", "-o", tmp_path / "o2.csv")
    assert res.exit_code == 2 and "no ingredient column" in res.output
    assert "product_name" in res.output                       # the columns are listed
    assert not (tmp_path / "o2.csv").exists()
    res = run("score", inp, "-o", tmp_path / "o3.csv", "--map", "colour=x")
    assert res.exit_code == 2 and "unknown field" in res.output


def test_empty_and_header_only_inputs(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    res = run("score", tmp_path / "empty.csv", "-o", tmp_path / "o.csv")
    assert res.exit_code == 2 and "no header" in res.output
    assert not (tmp_path / "o.csv").exists()
    (tmp_path / "head.csv").write_text("product_id,ingredients\n\n")
    res = run("score", tmp_path / "head.csv", "-o", tmp_path / "o.csv")
    assert res.exit_code == 2 and "no rows" in res.output
    res = run("score", tmp_path / "missing.csv", "-o", tmp_path / "o.csv")
    assert res.exit_code == 2 and "no such file" in res.output


def test_rejects_file_always_written_and_progress_only_on_request(tmp_path, rows):
    inp = tmp_path / "in.csv"
    write_csv(inp, rows.head(5))
    res = run("score", inp, "-o", tmp_path / "o.csv", "--rejects", tmp_path / "bad.csv",
              "--no-models")
    assert res.exit_code == 0
    assert (tmp_path / "bad.csv").read_text() == "row,line,reason,raw\n"
    assert "scoring" not in res.stderr                 # not a terminal: no progress bar
    res = run("score", inp, "-o", tmp_path / "o.csv", "--progress", "--json", "--no-models")
    assert "scoring" in res.stderr
    summary = json.loads(res.stdout)
    assert summary["rows"] == summary["scored"] + summary["rejected"] == 5


def test_fast_csv_matches_pandas(rows):
    out = local_engine.score_frame(rows.head(20), make_score_context(day=2, use_models=False))
    mine = pd.read_csv(io.StringIO(fast_csv(out, header=True)), dtype=str, keep_default_na=False)
    theirs = pd.read_csv(io.StringIO(out.to_csv(index=False)), dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(mine, theirs)


# --- atomic writes ------------------------------------------------------------------------


def test_failure_midway_leaves_previous_output(tmp_path, rows, monkeypatch):
    inp = tmp_path / "in.csv"
    write_csv(inp, rows)
    out = tmp_path / "out.csv"
    out.write_text("previous run\n")
    calls = {"n": 0}
    real = local_engine.score_chunk

    def failing(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return real(*a, **kw)

    monkeypatch.setattr(local_engine, "score_chunk", failing)
    with pytest.raises(RuntimeError):
        run_local(str(inp), str(out), make_score_context(use_models=False), chunk_rows=20)
    assert out.read_text() == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def _start(inp: Path, out: Path) -> subprocess.Popen:
    code = "import sys; from recommender.cli import main; sys.argv[0] = 'skinrec'; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "score", str(inp), "-o", str(out), "--chunk-rows", "50",
         "--no-models", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(Path(__file__).parent.parent))


def _open_fifo_for_writing(fifo: Path, proc: subprocess.Popen, timeout: float = 60) -> int:
    """The write end of ``fifo`` once ``proc`` has opened it for reading (never blocks on a
    process that died before opening it)."""
    import errno

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.ENXIO:
                raise
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
            continue
        os.set_blocking(fd, True)
        return fd
    raise AssertionError("the run never opened its input")


def _wait_for_partial(directory: Path, proc: subprocess.Popen, timeout: float = 60) -> Path:
    deadline = time.time() + timeout
    while time.time() < deadline:
        tmp = [p for p in directory.iterdir() if p.name.startswith(".out.csv.skinrec-")]
        if tmp and tmp[0].stat().st_size > 0:
            return tmp[0]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("no partial output appeared")


@pytest.mark.slow
def test_killed_run_leaves_no_partial_output(tmp_path, rows):
    """SIGTERM: stopped and cleaned up, the previous OUT intact. SIGKILL (no chance to clean
    up): OUT still absent, only a hidden temporary file left. The input is a named pipe that
    has been sent part of a catalog and stays open, so each run is mid-way (scored rows
    written, waiting for more) when the signal comes, however fast the scoring is."""
    head = tmp_path / "head.csv"
    write_csv(head, pd.concat([rows] * 10, ignore_index=True))      # 600 rows, sent at once
    dirs, procs, pipes = {}, {}, {}
    for sig in ("term", "kill"):
        d = tmp_path / sig
        d.mkdir()
        os.mkfifo(d / "in.csv")
        dirs[sig] = d
    (dirs["term"] / "out.csv").write_text("previous run\n")
    try:
        for sig, d in dirs.items():
            procs[sig] = _start(d / "in.csv", d / "out.csv")
            pipes[sig] = _open_fifo_for_writing(d / "in.csv", procs[sig])
            os.write(pipes[sig], head.read_bytes())
        partial = {sig: _wait_for_partial(dirs[sig], procs[sig]) for sig in procs}
        assert all(p.poll() is None for p in procs.values())        # still waiting for input
        procs["term"].send_signal(signal.SIGTERM)
        os.kill(procs["kill"].pid, signal.SIGKILL)
        for p in procs.values():
            p.communicate(timeout=60)
    finally:
        for fd in pipes.values():
            os.close(fd)
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.communicate()

    assert procs["term"].returncode == 130, procs["term"].stderr
    assert (dirs["term"] / "out.csv").read_text() == "previous run\n"
    assert sorted(p.name for p in dirs["term"].iterdir()) == ["in.csv", "out.csv"]

    d = dirs["kill"]
    assert procs["kill"].returncode == -signal.SIGKILL
    assert not (d / "out.csv").exists() and not (d / "out.rejects.csv").exists()
    name = partial["kill"].name
    leftovers = {p.name for p in d.iterdir()} - {"in.csv"}
    assert leftovers <= {name, name.replace(".out.csv.", ".out.rejects.csv.")}
    assert all(n.startswith(".") for n in leftovers)                 # hidden temporaries only


# --- workers ------------------------------------------------------------------------------


def test_two_workers_write_the_same_bytes(tmp_path, rows):
    inp = tmp_path / "in.csv"
    write_csv(inp, rows, extra_lines={7: b"ragged,row"})
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert run("score", inp, "-o", one, "--chunk-rows", "15", "--day", "2",
               "--no-models").exit_code == 0
    # every worker replaced after each chunk: the recycling path gives the same bytes too
    summary = run_local(str(inp), str(two), make_score_context(day=2, use_models=False),
                        chunk_rows=15, workers=2, recycle_rows=15)
    assert (summary.workers, summary.rows, summary.rejected) == (2, 61, 1)
    assert one.read_bytes() == two.read_bytes()
    assert (tmp_path / "one.rejects.csv").read_bytes() == (tmp_path / "two.rejects.csv").read_bytes()

def test_in_process_run_restores_the_collector(tmp_path):
    """An in-process run freezes what is loaded and widens the young generation while it
    scores (local._scoring_gc), and leaves the process's collector as it found it."""
    import gc

    inp = tmp_path / "in.csv"
    inp.write_text("name,ingredients\nA,\"Water, Glycerin, Retinol\"\n", encoding="utf-8")
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    summary = local_engine.run_local(str(inp), str(tmp_path / "out.csv"), make_score_context(use_models=False),
                                     progress=False)
    assert summary.scored == 1
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen


def test_parent_process_never_loads_the_models_or_the_knowledge_base():
    """A `skinrec score --workers N` parent only reads and writes: building its context and the
    local engine must not import scikit-learn nor load the KB (~190 -> ~107 MB RSS measured;
    workers load them). With an avoid-list the context needs the canonicaliser, so it loads."""
    code = (
        "import sys; from recommender.batch.commands import _score_context; "
        "import recommender.batch.local; "
        "c = _score_context(None, 3, 1.0, 'mn', tuple(sys.argv[1:]), False, None, (), None, "
        "False); "
        "print(sorted(m for m in ('sklearn', 'recommender.knowledge.reader') "
        "if m in sys.modules))")
    root = str(Path(__file__).parent.parent)
    bare = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=root, check=True)
    assert bare.stdout.strip() == "[]"
    avoid = subprocess.run([sys.executable, "-c", code, "retinol"], capture_output=True,
                           text=True, cwd=root, check=True)
    assert "recommender.knowledge.reader" in avoid.stdout
