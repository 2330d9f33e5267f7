"""Batch scoring throughput: `skinrec score` against pandas read_csv + to_csv of the same file.

    python benchmarks/score_throughput.py [--rows 1000000] [--workers 1,2] [--dask]
                                          [--flags full|compact] [--no-models] [--seed 0]

What it does (DESIGN.md "How good is good", issue 5 point 6):

1. Generates a realistic catalog with benchmarks/catalog_gen.py (perturbed real lists,
   >= 95 % distinct, ~10 % of tokens in casing/spacing/format variants) and writes it as CSV.
2. Baseline: ``pd.read_csv`` + ``DataFrame.to_csv`` of that file, in a fresh process.
3. ``skinrec score IN -o OUT.csv`` with ``--workers N`` for each N, and (``--dask``)
   ``--engine dask --workers 2`` writing Parquet parts, each in a fresh process (so the
   figures include start-up: imports, knowledge base and model loading).
4. Reports, per run: wall seconds, products/s, ratio to the baseline, peak memory of the
   whole process tree (sampled every 0.25 s: the sum of RSS, and the sum of PSS, which
   counts pages shared by forked workers once), each process's peak RSS by role (parent,
   forkserver, the largest pool worker), output size.

Not a test: timings depend on the machine and its load (the 1-minute load average is
reported before each run). The DESIGN.md targets: ratio <= 3 with 2 workers at 1M rows;
peak memory <= 1.5 GB whatever the input size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))


def _tree_memory(pid: int, roles: dict | None = None) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) in bytes over a process and its descendants (0, 0 without
    psutil, which comes with the dask extra; then only the largest child's peak RSS, from
    getrusage, is reported). ``roles``: updated with each role's peak RSS in bytes (the
    parent, the forkserver, each pool worker, other processes), where a run's memory goes."""
    try:
        import psutil
    except ImportError:
        return 0, 0

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    rss = pss = 0
    for p in procs:
        try:
            info = p.memory_full_info()
        except psutil.Error:
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
        if roles is not None:
            key = _role(p, root)
            roles[key] = max(roles.get(key, 0), info.rss)
    return rss, pss


def _role(p, root) -> str:
    """'parent', 'forkserver', 'worker <pid>' or 'other <pid>' for one process of the tree."""
    if p.pid == root.pid:
        return "parent"
    try:
        cmd = " ".join(p.cmdline())
        parent = p.ppid()
    except Exception:  # noqa: BLE001 - a process that just ended
        return f"other {p.pid}"
    if "forkserver import main" in cmd:
        return "forkserver" if parent == root.pid else f"worker {p.pid}"
    return f"other {p.pid}"


def measure(cmd: list[str], *, label: str) -> dict:
    """Run ``cmd``; wall time and peak tree memory, sampled every 0.25 s."""
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak_rss = peak_pss = 0
    roles: dict = {}
    while proc.poll() is None:
        rss, pss = _tree_memory(proc.pid, roles)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.25)
    out, err = proc.communicate()
    secs = time.perf_counter() - t0
    if not peak_rss:
        import resource

        peak_rss = peak_pss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed ({proc.returncode}): {err[-2000:]}")
    return {"label": label, "seconds": round(secs, 2), "peak_rss_mb": round(peak_rss / 2**20),
            "peak_pss_mb": round(peak_pss / 2**20), "load_avg_1min_before": round(load, 2),
            "peak_rss_mb_by_process": _by_role(roles),
            "stdout": out[-2000:], "stderr": err[-2000:]}


def _by_role(roles: dict) -> dict:
    """Peak RSS in MB per role; workers (replaced over a long run) as their largest and count."""
    out = {k: round(v / 2**20) for k, v in roles.items() if not k.startswith(("worker", "other"))}
    for kind in ("worker", "other"):
        vals = [v for k, v in roles.items() if k.startswith(kind)]
        if vals:
            out[f"{kind}s"] = len(vals)
            out[f"largest {kind}"] = round(max(vals) / 2**20)
    return out


BASELINE = """
import sys, pandas as pd
df = pd.read_csv(sys.argv[1])
df.to_csv(sys.argv[2], index=False)
print(len(df))
"""


def run(args) -> dict:
    from catalog_gen import distinct_share, generate

    work = Path(args.workdir or tempfile.mkdtemp(prefix="skinrec-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    inp = work / f"catalog_{args.rows}.csv"
    result: dict = {"rows": args.rows, "seed": args.seed, "flags": args.flags,
                    "models": not args.no_models, "cpu_count": os.cpu_count(), "runs": []}
    if not inp.exists():
        t0 = time.perf_counter()
        frame = generate(args.rows, args.seed)
        result["distinct_share"] = round(distinct_share(frame), 4)
        frame.to_csv(inp, index=False)
        result["generate_s"] = round(time.perf_counter() - t0, 1)
        del frame
    result["input_mb"] = round(inp.stat().st_size / 2**20, 1)
    py = sys.executable

    base = measure([py, "-c", BASELINE, str(inp), str(work / "baseline_out.csv")],
                   label="pandas read_csv + to_csv")
    result["baseline"] = base
    cli = [py, "-c", "import sys; from recommender.cli import main; sys.argv[0] = 'skinrec'; main()"]
    common = ["--flags", args.flags, "--chunk-rows", str(args.chunk_rows), "--no-progress", "--json"]
    if args.no_models:
        common.append("--no-models")
    for n in [int(x) for x in args.workers.split(",") if x.strip()]:
        out = work / f"scored_w{n}.csv"
        r = measure([*cli, "score", str(inp), "-o", str(out), "--workers", str(n), *common],
                    label=f"skinrec score, local, {n} worker(s)")
        r["output_mb"] = round(out.stat().st_size / 2**20, 1)
        result["runs"].append(r)
        if not args.keep:
            out.unlink()
    if args.dask:
        out = work / "scored_dask"
        r = measure([*cli, "score", str(inp), "-o", str(out), "--engine", "dask", "--workers", "2",
                     "--format", "parquet", *common],
                    label="skinrec score, dask LocalCluster, 2 worker processes, parquet")
        r["output_mb"] = round(sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20, 1)
        result["runs"].append(r)
        if not args.keep:
            import shutil

            shutil.rmtree(out, ignore_errors=True)
    for r in result["runs"]:
        summary = json.loads(r.pop("stdout"))
        r.pop("stderr")
        r["scored"], r["rejected"] = summary["scored"], summary["rejected"]
        r["products_per_s"] = round(args.rows / r["seconds"], 1)
        r["ratio_to_pandas"] = round(r["seconds"] / base["seconds"], 2)
    base.pop("stdout")
    base.pop("stderr")
    if not args.keep:
        (work / "baseline_out.csv").unlink(missing_ok=True)
    result["workdir"] = str(work)
    return result


def render(result: dict) -> str:
    b = result["baseline"]
    lines = [
        f"{result['rows']} rows ({result['input_mb']} MB CSV, distinct share "
        f"{result.get('distinct_share', '?')}), flags={result['flags']}, "
        f"models={'on' if result['models'] else 'off'}, {result['cpu_count']} CPUs",
        f"baseline pandas read_csv+to_csv: {b['seconds']} s, peak RSS {b['peak_rss_mb']} MB "
        f"(load {b['load_avg_1min_before']})",
        "| run | s | products/s | ratio | peak RSS MB | peak PSS MB | output MB | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["runs"]:
        lines.append(f"| {r['label']} | {r['seconds']} | {r['products_per_s']} | "
                     f"{r['ratio_to_pandas']} | {r['peak_rss_mb']} | {r['peak_pss_mb']} | "
                     f"{r['output_mb']} | {r['load_avg_1min_before']} |")
    for r in result["runs"]:
        by = r.get("peak_rss_mb_by_process")
        if by:
            lines.append(f"{r['label']}: peak RSS MB by process " + ", ".join(
                f"{k} {v}" for k, v in by.items()))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--dask", action="store_true", help="also run the Dask engine (LocalCluster)")
    ap.add_argument("--flags", choices=["full", "compact"], default="full")
    ap.add_argument("--no-models", action="store_true")
    ap.add_argument("--chunk-rows", type=int, default=2000)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--keep", action="store_true", help="keep the outputs")
    ap.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = ap.parse_args()
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else render(result))


if __name__ == "__main__":
    main()
