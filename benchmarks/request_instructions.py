"""Instructions a web recommend request costs, counted by valgrind's callgrind: repeatable
where timings are not.

    python benchmarks/request_instructions.py [--catalog FILE | --rows 10000] [--seed 0]
                                              [--warmup 1500] [--requests 100]
                                              [--out benchmarks/out/request_instructions.json]

Which need it answers: on this shared host a request's CPU time moves by 10-30 % from one
minute to the next, so a change worth 2-5 % of the web app's recommend path cannot be seen in
timings (benchmarks/web_load.py, or an in-process timer). Callgrind counts the instructions
executed: the same for the same code, inputs and hash seed, whatever else the machine does
(two runs of the same code here: 1,544.7 and 1,545.4 million for 100 requests, with hash
randomisation on; this script sets PYTHONHASHSEED=0).

What it does: makes the 10k-product catalog as web_load.py does (or takes ``--catalog``),
then runs itself as a child under ``valgrind --tool=callgrind --instr-atstart=no``. The
child loads the app (``web.create_app``; several minutes under valgrind), sends ``--warmup``
recommend requests through Flask's test client and waits. The bodies are web_load's, in the
order one of the two gunicorn workers sees them under web_load's 8 clients (the clients'
sequences interleaved, every other request), so the kept answers are as warm as a worker's
after a few seconds of load. The parent then switches counting on (``callgrind_control -i
on``), lets the child send ``--requests`` more, has the counts written, and reports the
instructions per request.

What it does not show: gunicorn's HTTP layer (not run), and cache misses and memory traffic,
which decide much of a request's time on a busy machine: fewer instructions is not always
less time, so a change is still checked under load (web_load.py). Needs valgrind (Debian's
``valgrind`` package); ~7 minutes at 10k products.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

CLIENTS = 8          # web_load's default clients
BODIES = 2000        # web_load's default bodies
WAIT_S = 3600        # the longest the parent waits for one step of the child


def request_order(seed: int, n: int) -> list[bytes]:
    """web_load's recommend bodies in the order one of two workers sees them: each client
    starts at its own place in the bodies (web_load's ``idx * 7919``) and goes on in turn."""
    from web_load import recommend_body

    rng = random.Random(seed)
    bodies = [json.dumps(recommend_body(rng)).encode() for _ in range(BODIES)]
    pos = [i * 7919 for i in range(CLIENTS)]
    seq = []
    for step in range(2 * n):
        c = step % CLIENTS
        seq.append(bodies[pos[c] % BODIES])
        pos[c] += 1
    return seq[::2]


def child(work: Path, warmup: int, requests: int, seed: int) -> None:
    """Under valgrind: load, warm up, then count ``requests`` once the parent says so."""
    from web import create_app

    app = create_app()
    import gc

    gc.freeze()                  # as web/gunicorn_conf.py does before the workers fork
    from web.gunicorn_conf import WEB_GC_THRESHOLD

    gc.set_threshold(*WEB_GC_THRESHOLD)
    seq = request_order(seed, warmup + requests)
    client = app.test_client()
    headers = {"Content-Type": "application/json"}

    def send(bodies: list[bytes]) -> None:
        for b in bodies:
            r = client.post("/api/v1/recommend", data=b, headers=headers)
            if r.status_code != 200:
                raise SystemExit(f"recommend answered {r.status_code}: {r.data[:200]!r}")

    send(seq[:warmup])
    (work / "ready").write_text("1")
    _wait_for(work / "go", None)
    send(seq[warmup:warmup + requests])
    (work / "done").write_text("1")
    _wait_for(work / "end", None)


def _wait_for(path: Path, proc: subprocess.Popen | None) -> None:
    deadline = time.monotonic() + WAIT_S
    while not path.exists():
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the child stopped (exit code {proc.returncode}) before {path.name}")
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {path.name} after {WAIT_S} s")
        time.sleep(0.2)


def _total(dump: Path) -> int:
    for line in dump.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"no instruction total in {dump}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", type=Path, help="a catalog CSV to serve (default: generate one)")
    ap.add_argument("--rows", type=int, default=10_000, help="products of the generated catalog")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=1500, help="requests before counting")
    ap.add_argument("--requests", type=int, default=100, help="requests counted")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "request_instructions.json")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        child(args.child, args.warmup, args.requests, args.seed)
        return
    if args.warmup < 0 or args.requests < 1 or args.rows < 1:
        ap.error("--warmup must be >= 0, --requests and --rows >= 1")
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            print(f"{tool} not found: install Debian's valgrind package "
                  "(apt-get install valgrind)", file=sys.stderr)
            sys.exit(2)
    with tempfile.TemporaryDirectory(prefix="skinrec-instr-") as tmp:
        work = Path(tmp)
        if args.catalog:
            catalog = args.catalog.resolve()
            if not catalog.is_file():
                ap.error(f"--catalog {catalog}: no such file")
            made = {"path": str(catalog)}
        else:
            from web_load import make_catalog

            catalog = work / "catalog.csv"
            print(f"generating a {args.rows}-product catalog (benchmarks/catalog_gen.py) ...",
                  flush=True)
            made = make_catalog(args.rows, args.seed, catalog)
        out_file = work / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={out_file}", sys.executable, str(Path(__file__).resolve()),
               "--child", str(work), "--warmup", str(args.warmup), "--requests",
               str(args.requests), "--seed", str(args.seed)]
        env = {**os.environ, "PYTHONHASHSEED": "0", "SKINREC_CATALOG": str(catalog)}
        t0 = time.perf_counter()
        print("loading the app under valgrind (several minutes) ...", flush=True)
        with open(work / "child.log", "w") as log:
            proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                _wait_for(work / "ready", proc)
                subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True,
                               capture_output=True)
                (work / "go").write_text("1")
                _wait_for(work / "done", proc)
                subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True,
                               capture_output=True)
                (work / "end").write_text("1")
                proc.wait(timeout=WAIT_S)
            except BaseException:
                proc.kill()
                print((work / "child.log").read_text()[-3000:], file=sys.stderr)
                raise
        dumps = sorted(work.glob("callgrind.out.*"))
        if not dumps:
            raise SystemExit("callgrind wrote no counts for the measured requests")
        total = _total(dumps[0])
        result = {"benchmark": "request_instructions", "catalog": made,
                  "warmup_requests": args.warmup, "requests": args.requests, "seed": args.seed,
                  "instructions": total, "instructions_per_request": round(total / args.requests),
                  "wall_s": round(time.perf_counter() - t0, 1)}
    print(f"{args.requests} recommend requests after {args.warmup}: {total:,} instructions, "
          f"{total / args.requests / 1e6:.2f} M a request")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
