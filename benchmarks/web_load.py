"""HTTP load on the web app: health, recommend and check under gunicorn, closed-loop clients.

    python benchmarks/web_load.py [--rows 10000] [--clients 8] [--duration 20] [--warmup 3]
                                  [--rounds 4] [--slice-warmup 1]
                                  [--workers 2] [--worker-class sync|gthread] [--threads 4]
                                  [--timeout 120] [--endpoints health,recommend,check] [--seed 0]
                                  [--catalog FILE] [--url http://127.0.0.1:PORT] [--floor]
                                  [--out benchmarks/out/web_load.json]

What it does (DESIGN.md "How good is good": API recommend p95 <= 50 ms over a 10k-product
catalog with 8 concurrent closed-loop clients, throughput >= 1/5 of the health endpoint's):

1. Makes a 10k-product catalog with benchmarks/catalog_gen.py (perturbed real ingredient
   lists of the shared catalogs, read from the data directory at run time; nothing is
   committed) plus a seeded category per product, and writes it as CSV to a temporary
   directory. ``--catalog FILE`` serves a catalog you already have instead.
2. Starts ``python -m gunicorn --preload --workers 2 'web:create_app()'`` (sync workers, as
   ``skinrec serve``; ``--worker-class gthread`` keeps connections alive) on a free port of
   127.0.0.1 with SKINREC_CATALOG pointing at it, and waits for ``/api/v1/health``
   (``--url`` uses a server you started yourself instead; nothing else is ever targeted).
3. For the endpoints -- ``GET /api/v1/health``, ``POST /api/v1/recommend``,
   ``POST /api/v1/check`` -- runs N closed-loop clients (Python threads, one keep-alive
   ``http.client`` connection each: send, read the whole answer, send the next) for a warm-up
   then a fixed measured duration. Requests are varied and realistic: recommend contexts
   draw day 0-14, depth 0.25-2.0 mm, modality, 0-3 concerns, a skin type, sometimes an
   avoid-list or pregnancy; check bodies are real (perturbed) ingredient lists of the
   catalog, each with its own day and depth. Every body is built before the clock starts.
   The measured seconds of each endpoint are cut into ``--rounds`` slices and the endpoints
   take turns (health, recommend, check, health, recommend, ...; the first slice of each
   after ``--warmup``, the others after ``--slice-warmup``; a client's bodies go on where
   its last slice stopped). On a shared host the machine's speed drifts by 10-20 % from
   minute to minute: measured one after the other, health in one minute and recommend in
   the next, the ratio of the two moved between 0.16 and 0.21 for the same code. Taking
   turns, every endpoint sees the same drift.
4. Prints p50/p95/p99/max latency (ms), requests/s and non-2xx/error counts per endpoint,
   the recommend/health throughput ratio (all rounds, and each round's) and the targets,
   and writes the same as JSON.

``--floor``: the same run against benchmarks/floor_app.py, whose recommend answers one stored
real answer (the first body's) after reading the body: the serving floor, what a recommend
request costs the machine when scoring is free (its ratio to health says how much of the
target the HTTP, Flask and client layers leave to the scoring).

Not a test: the figures depend on the machine and on what else runs on it (the clients
share the machine's cores with the server; the 1-minute load average is recorded before
each phase). The run is bounded: every loop stops at its deadline, and the server is
killed at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

CONCERNS = ["acne", "dark_spots", "fine_lines_wrinkles", "firmness", "dullness_texture",
            "pores", "dryness", "redness", "dark_circles"]
SKIN_TYPES = ["dry", "oily", "combination", "normal", "sensitive"]
AVOIDABLE = ["fragrance", "essential_oil", "niacinamide", "drying_alcohol", "Limonene",
             "Linalool", "Dimethicone", "Lanolin"]
CATEGORIES = ["Serum", "Moisturizer", "Cleanser", "Toner", "Face Oil", "Eye Cream", "Mask",
              "Sunscreen", "Mist", "Exfoliator", "Peels", "Treatment"]
TARGET_P95_MS = 50.0
TARGET_RATIO = 0.2


# ----------------------------------------------------------------------------- catalog
def make_catalog(rows: int, seed: int, path: Path) -> dict:
    from catalog_gen import distinct_share, generate

    t0 = time.perf_counter()
    df = generate(rows, seed=seed)
    rng = random.Random(seed + 1)
    df["brand"] = [f"brand {rng.randrange(400):03d}" for _ in range(len(df))]
    df["category"] = [rng.choice(CATEGORIES) for _ in range(len(df))]
    df["price"] = [round(rng.uniform(6, 120), 2) for _ in range(len(df))]
    df.to_csv(path, index=False)
    return {"rows": len(df), "distinct_share": round(distinct_share(df), 4),
            "generate_s": round(time.perf_counter() - t0, 2), "path": str(path)}


def read_lists(path: Path, n: int, seed: int) -> list[str]:
    import pandas as pd

    lists = pd.read_csv(path, usecols=["ingredients"])["ingredients"].dropna().astype(str)
    lists = [t for t in lists if t.strip()]
    rng = random.Random(seed + 2)
    return [rng.choice(lists) for _ in range(n)]


# ----------------------------------------------------------------------------- request bodies
def _day(rng: random.Random) -> float:
    # a mix of whole days (what a form sends) and fractional ones (hours after treatment)
    return float(rng.randrange(0, 15)) if rng.random() < 0.6 else round(rng.uniform(0, 14), 2)


def recommend_body(rng: random.Random) -> dict:
    body = {
        "day": _day(rng),
        "depth": rng.choice([0.25, 0.5, 0.5, 0.75, 1.0, 1.0, 1.0, 1.5, 2.0]
                            if rng.random() < 0.7 else [round(rng.uniform(0.25, 2.0), 2)]),
        "modality": rng.choices(["mn", "rf", "prp"], weights=[8, 1, 1])[0],
        "concerns": rng.sample(CONCERNS, rng.choice([0, 1, 1, 2, 2, 3])),
        "skin_type": rng.choice(SKIN_TYPES),
    }
    if rng.random() < 0.2:
        body["avoid"] = rng.sample(AVOIDABLE, rng.choice([1, 2]))
    if rng.random() < 0.05:
        body["pregnant"] = True
    return body


def check_body(rng: random.Random, ingredients: str) -> dict:
    body = {"ingredients": ingredients, "day": _day(rng),
            "depth": rng.choice([0.25, 0.5, 1.0, 1.0, 1.5, 2.0])}
    if rng.random() < 0.3:
        body["concerns"] = rng.sample(CONCERNS, rng.choice([1, 2]))
        body["skin_type"] = rng.choice(SKIN_TYPES)
    return body


# ----------------------------------------------------------------------------- server
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(catalog: Path, workers: int, threads: int, worker_class: str, log_path: Path,
                 floor_body: bytes | None = None):
    port = _free_port()
    env = dict(os.environ, SKINREC_CATALOG=str(catalog), PYTHONUNBUFFERED="1")
    paths = (str(ROOT), str(HERE) if floor_body else "", env.get("PYTHONPATH", ""))
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    app = "web:create_app()"
    if floor_body:                  # benchmarks/floor_app.py: recommend answers a stored answer
        env["SKINREC_FLOOR_BODY"] = floor_body.decode()
        app = "floor_app:create_floor_app()"
    cmd = [sys.executable, "-m", "gunicorn", "--preload", "--config", "python:web.gunicorn_conf",
           "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--worker-class", worker_class,
           *(["--threads", str(threads)] if worker_class == "gthread" else []),
           "--timeout", "120", "--keep-alive", "30", "--graceful-timeout", "5",
           "--no-control-socket",
           app]
    log = open(log_path, "wb")  # noqa: SIM115 (closed by stop_server)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    return proc, log, f"http://127.0.0.1:{port}", " ".join(cmd[1:])


def stop_server(proc, log) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
    log.close()


def wait_ready(base: str, proc, log_path: Path, timeout: float = 600) -> float:
    t0 = time.perf_counter()
    u = urllib.parse.urlsplit(base)
    while time.perf_counter() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}):\n"
                             + log_path.read_text(errors="replace")[-4000:])
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
            c.request("GET", "/api/v1/health")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{base}/api/v1/health not ready after {timeout:.0f} s")


# ----------------------------------------------------------------------------- load
class Phase:
    def __init__(self, name: str, method: str, path: str, bodies: list[bytes] | None):
        self.name, self.method, self.path, self.bodies = name, method, path, bodies
        self.lat: list[float] = []
        self.non2xx: dict[int, int] = {}
        self.errors: list[str] = []
        self.done_in_window = 0
        self.lock = threading.Lock()
        self.pos: dict[int, int] = {}     # client -> index of its next body (across slices)
        self.slices: list[dict] = []      # per measured slice: its seconds, answers, req/s


def _client(base: str, ph: Phase, idx: int, record_from: float, stop: float, timeout: float,
            barrier: threading.Barrier) -> None:
    """One closed-loop client: a request, its whole answer, the next request, until stop.

    A request that starts inside the measured window counts for latency even when it ends
    after the window (so slow answers are not cut off); throughput counts the answers that
    end inside the window."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    lat: list[float] = []
    done_in_window = 0
    non2xx: dict[int, int] = {}
    errors: list[str] = []
    bodies = ph.bodies
    i = ph.pos.get(idx, idx * 7919)   # a later slice goes on where this client stopped
    barrier.wait()
    while True:
        t0 = time.perf_counter()
        if t0 >= stop:
            break
        body = bodies[i % len(bodies)] if bodies else None
        i += 1
        try:
            conn.request(ph.method, ph.path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException) as exc:
            if t0 >= record_from:
                errors.append(f"{type(exc).__name__}: {exc}"[:120])
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
            continue
        t1 = time.perf_counter()
        if t0 < record_from:
            continue
        if 200 <= status < 300:
            lat.append(t1 - t0)
            done_in_window += t1 < stop
        else:
            non2xx[status] = non2xx.get(status, 0) + 1
    conn.close()
    with ph.lock:
        ph.pos[idx] = i
        ph.lat.extend(lat)
        ph.done_in_window += done_in_window
        for k, v in non2xx.items():
            ph.non2xx[k] = ph.non2xx.get(k, 0) + v
        ph.errors.extend(errors)


def _pct(sorted_vals: list[float], p: float) -> float:
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def run_slice(base: str, ph: Phase, clients: int, warmup: float, duration: float,
              timeout: float) -> None:
    """One stretch of load on one endpoint: ``warmup`` unrecorded seconds, then ``duration``
    measured ones, added to ``ph`` (and to ``ph.slices``)."""
    done_before = ph.done_in_window
    load1 = os.getloadavg()[0]
    barrier = threading.Barrier(clients + 1)
    start = time.perf_counter() + 0.2
    record_from, stop = start + warmup, start + warmup + duration
    threads = [threading.Thread(target=_client,
                                args=(base, ph, i, record_from, stop, timeout, barrier),
                                daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    for t in threads:  # bounded: a client ends at most one request timeout after stop
        t.join(timeout=warmup + duration + timeout + 30)
    done = ph.done_in_window - done_before
    ph.slices.append({"duration_s": duration, "completed_in_window": done,
                      "rps": round(done / duration, 1), "loadavg_1m_before": round(load1, 2)})


def summary(ph: Phase, clients: int, warmup: float) -> dict:
    """The endpoint's figures over all its slices."""
    duration = sum(sl["duration_s"] for sl in ph.slices)
    lat = sorted(ph.lat)
    n_bad = sum(ph.non2xx.values())
    err_types: dict[str, int] = {}
    for e in ph.errors:
        err_types[e] = err_types.get(e, 0) + 1

    def ms(v: float) -> float | None:
        return None if v != v else round(v * 1000, 2)  # NaN (no sample) -> null

    return {
        "endpoint": f"{ph.method} /api/v1{ph.path.removeprefix('/api/v1')}",
        "clients": clients, "duration_s": duration, "warmup_s": warmup,
        "requests_ok": len(lat), "completed_in_window": ph.done_in_window,
        "non_2xx": {str(k): v for k, v in sorted(ph.non2xx.items())},
        "errors": len(ph.errors), "error_types": err_types,
        "rps": round(ph.done_in_window / duration, 1),
        "p50_ms": ms(_pct(lat, 50)), "p95_ms": ms(_pct(lat, 95)), "p99_ms": ms(_pct(lat, 99)),
        "max_ms": ms(lat[-1]) if lat else None,
        "mean_ms": ms(sum(lat) / len(lat)) if lat else None,
        "loadavg_1m_before": ph.slices[0]["loadavg_1m_before"],
        "slices": ph.slices,
        "bad_share": round((n_bad + len(ph.errors)) / max(1, n_bad + len(ph.errors) + len(lat)), 4),
    }


def probe(base: str, method: str, path: str, body: bytes | None) -> dict:
    """One request before the clock: it must answer 2xx with JSON (or the run stops)."""
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    c.request(method, path, body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    if not 200 <= r.status < 300:
        raise SystemExit(f"{method} {path} answered {r.status}: {data[:500]!r}")
    return json.loads(data)


# ----------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=20.0, help="measured seconds per endpoint")
    ap.add_argument("--warmup", type=float, default=3.0, help="unrecorded seconds per endpoint")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bodies", type=int, default=2000, help="distinct bodies per POST endpoint")
    ap.add_argument("--rounds", type=int, default=4,
                    help="each endpoint's --duration is measured in this many slices, the "
                         "endpoints taking turns (health, recommend, check, health, ...), so "
                         "that the machine's speed, which drifts from minute to minute on a "
                         "shared host, weighs on every endpoint alike")
    ap.add_argument("--slice-warmup", type=float, default=1.0,
                    help="unrecorded seconds before each slice after an endpoint's first")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds one request may take")
    ap.add_argument("--worker-class", default="sync", choices=["sync", "gthread"],
                    help="gunicorn worker class (sync: as `skinrec serve`)")
    ap.add_argument("--endpoints", default="health,recommend,check",
                    help="comma-separated subset of health,recommend,check")
    ap.add_argument("--catalog", type=Path, help="serve this catalog instead of generating one")
    ap.add_argument("--floor", action="store_true",
                    help="recommend answers one stored real answer (benchmarks/floor_app.py): "
                         "the HTTP, Flask and client cost that no faster scoring removes")
    ap.add_argument("--url", help="an already running server on this machine (loopback only)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "web_load.json")
    args = ap.parse_args()
    if args.url and urllib.parse.urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("--url must be a loopback address (127.0.0.1, localhost, ::1)")
    if args.floor and args.url:
        raise SystemExit("--floor starts its own server: leave out --url")
    if args.duration <= 0 or args.duration > 600:
        raise SystemExit("--duration must be in (0, 600] seconds")
    if not 1 <= args.rounds <= 100:
        raise SystemExit("--rounds must be in [1, 100]")
    if args.warmup < 0 or args.slice_warmup < 0:
        raise SystemExit("--warmup and --slice-warmup must be >= 0 seconds")

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    result: dict = {"commit": commit, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                                "loadavg_1m_at_start": round(os.getloadavg()[0], 2)},
                    "settings": {k: (str(v) if isinstance(v, Path) else v)
                                 for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="skinrec-webload-") as tmp:
        tmp = Path(tmp)
        if args.catalog:
            catalog = args.catalog.resolve()
            result["catalog"] = {"path": str(catalog)}
        else:
            catalog = tmp / "catalog.csv"
            print(f"generating a {args.rows}-product catalog (benchmarks/catalog_gen.py) ...",
                  flush=True)
            result["catalog"] = make_catalog(args.rows, args.seed, catalog)
            print(f"  {result['catalog']}", flush=True)

        rng = random.Random(args.seed)
        lists = read_lists(catalog, args.bodies, args.seed)
        rec_bodies = [json.dumps(recommend_body(rng)).encode() for _ in range(args.bodies)]
        chk_bodies = [json.dumps(check_body(rng, t)).encode() for t in lists]

        proc = log = None
        log_path = tmp / "gunicorn.log"
        try:
            if args.url:
                base = args.url.rstrip("/")
                result["server"] = {"url": base, "started_by_benchmark": False}
            else:
                proc, log, base, cmd = start_server(catalog, args.workers, args.threads,
                                                   args.worker_class, log_path,
                                                   rec_bodies[0] if args.floor else None)
                result["server"] = {"command": cmd, "workers": args.workers,
                                    "worker_class": args.worker_class,
                                    "started_by_benchmark": True}
            print(f"waiting for {base}/api/v1/health ...", flush=True)
            result["server"]["ready_s"] = round(wait_ready(base, proc, log_path), 1)
            health = probe(base, "GET", "/api/v1/health", None)
            rec = probe(base, "POST", "/api/v1/recommend", rec_bodies[0])
            probe(base, "POST", "/api/v1/check", chk_bodies[0])
            result["server"]["health"] = health
            result["server"]["recommend_keys"] = sorted(rec)

            phases = [Phase("health", "GET", "/api/v1/health", None),
                      Phase("recommend", "POST", "/api/v1/recommend", rec_bodies),
                      Phase("check", "POST", "/api/v1/check", chk_bodies)]
            result["results"] = {}
            wanted = set(args.endpoints.split(","))
            chosen = [p for p in phases if p.name in wanted]
            part = args.duration / args.rounds
            for r in range(args.rounds):
                for ph in chosen:
                    warm = args.warmup if r == 0 else args.slice_warmup
                    print(f"round {r + 1}/{args.rounds} {ph.name}: {args.clients} clients, "
                          f"{warm:g} s warm-up + {part:g} s ...", flush=True)
                    run_slice(base, ph, args.clients, warm, part, args.timeout)
            for ph in chosen:
                result["results"][ph.name] = summary(ph, args.clients, args.warmup)
        finally:
            if proc is not None:
                stop_server(proc, log)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                log_copy = args.out.with_suffix(".gunicorn.log")
                log_copy.write_bytes(log_path.read_bytes())
                result.setdefault("server", {})["log"] = str(log_copy)

    res = result["results"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not {"health", "recommend"} <= set(res):
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(res, indent=2))
        print(f"wrote {args.out}")
        return
    ratio = res["recommend"]["rps"] / res["health"]["rps"] if res["health"]["rps"] else 0.0
    result["recommend_over_health_rps"] = round(ratio, 3)
    # each round's ratio (its recommend slice over the health slice just before it)
    per_round = [round(r["rps"] / h["rps"], 3) if h["rps"] else 0.0 for h, r in
                 zip(res["health"]["slices"], res["recommend"]["slices"], strict=True)]
    result["recommend_over_health_rps_per_round"] = per_round
    p95 = res["recommend"]["p95_ms"]
    result["targets"] = {
        "recommend_p95_ms<=50": p95 is not None and p95 <= TARGET_P95_MS,
        "recommend_rps>=health_rps/5": ratio >= TARGET_RATIO,
    }
    print()
    print("| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | non-2xx | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in res.values():
        print(f"| {r['endpoint']} | {r['requests_ok']} | {r['rps']} | {r['p50_ms']} | "
              f"{r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} | {sum(r['non_2xx'].values())} | "
              f"{r['errors']} |")
    print()
    print(f"recommend/health throughput: {ratio:.3f} (target >= {TARGET_RATIO}); "
          f"recommend p95 {res['recommend']['p95_ms']} ms (target <= {TARGET_P95_MS:g} ms)")
    print(f"  per round: {', '.join(f'{v:.3f}' for v in per_round)}; req/s per round: "
          f"health {', '.join(str(sl['rps']) for sl in res['health']['slices'])}; "
          f"recommend {', '.join(str(sl['rps']) for sl in res['recommend']['slices'])}")
    for k, ok in result["targets"].items():
        print(f"  {k}: {'met' if ok else 'MISSED'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
