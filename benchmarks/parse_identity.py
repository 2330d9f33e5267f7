"""Dump every parse result to compare two versions of the parser byte for byte.

    python benchmarks/parse_identity.py dump OUTDIR [--rows 200000]
    python benchmarks/parse_identity.py compare OUTDIR_A OUTDIR_B

``dump`` reads, with ``default_reader()`` (learned fallback on), every row of the three
shared catalogs (one full JSON line per row: the list's text, status, components, problems
and every field of every mention), the string literals of the parser and reader tests, the
catalogs again through ``Reader.read_many`` with a fresh reader, a structurally perturbed
catalog (headings, may-contain blocks, drug-facts markers, percentages, footnotes, HTML,
stringified lists inserted into real lists) and the generated catalog of
``parse_throughput.py`` (one SHA-1 per row: the full dump would be gigabytes). ``compare``
says which files differ and shows the first differing rows. No dataset row is stored in
the repository: the dumps go to OUTDIR (e.g. /tmp/parse_base).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ROOT = Path(__file__).resolve().parent.parent
_MENTION_FIELDS = ("raw", "name", "position", "section", "component", "percent", "alternatives",
                   "inci", "match", "match_score", "classes", "class_confidence", "uncertain",
                   "match_via", "recognized")


def serial(parsed) -> str:
    return json.dumps({
        "text": parsed.text, "status": parsed.status, "found": parsed.found,
        "components": list(parsed.components), "problems": list(parsed.problems),
        "unrecognized": parsed.unrecognized,
        "ingredients": [[_plain(getattr(m, f)) for f in _MENTION_FIELDS]
                        for m in parsed.ingredients],
    }, ensure_ascii=False)


def _plain(v):
    if isinstance(v, tuple):
        return ["__tuple__", *v]
    if isinstance(v, list):
        return ["__list__", *v]
    if isinstance(v, float):
        return repr(v)
    return v


def catalog_texts() -> dict[str, list]:
    from recommender.catalogs import load_catalog

    return {name: load_catalog(name)["ingredients"].tolist()
            for name in ("sephora_2023", "cosmetics_2017", "lookfantastic_2020")}


def test_literals() -> list[str]:
    out: list[str] = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        if not any(k in path.name for k in ("parse", "reader", "inci", "aliases", "synonyms",
                                            "classes", "safety_real", "kb")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
                out.append(node.value)
    return list(dict.fromkeys(out))


_INSERTS = [
    "\nProduct variation 1:\n", "\nGENIUS Liquid Collagen:\n", " May Contain: ", " [+/- ",
    " (+/-) ", "+/-: ", "Active Ingredients: ", " Inactive Ingredients: ", "Ingredients: ",
    " 10%", " (2%)", " 0.5 %", "*", "**", " *Certified organic ingredients. ", ". *Plant origin",
    "<br>", " &amp; ", " & ", "(", ")", "[", "]", ". ", " and ", "/", " / ", " - ", ": Sunscreen",
    "; ", "\n", ",", " (Organic) ", " Essential Oil", " 78-70-6", " CI 77491", "Mini Size: ",
    "\u2022 ", " \u2013 ", "\u00b9", " is free from parabens and sulfates. ", "Paraben-, and Sulfate-Free",
    " Please be aware that ingredient lists may change. ", "(and)", " (as Beta Carotene)",
    " peut contenir ", "\u00a0", "\u200b", "Water\\Aqua\\Eau", "1,2-Hexanediol", " [Citrus Limon Peel Oil]",
]


def structural(texts: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pool = [t for t in texts if isinstance(t, str) and t.strip()]
    out = []
    for _ in range(n):
        t = rng.choice(pool)
        for _ in range(rng.randrange(1, 5)):
            if not t:
                break
            i = rng.randrange(len(t) + 1)
            k = rng.random()
            if k < 0.6:
                t = t[:i] + rng.choice(_INSERTS) + t[i:]
            elif k < 0.75:
                j = min(len(t), i + rng.randrange(1, 30))
                t = t[:i] + t[j:]
            elif k < 0.85:
                t = t[:i]  # truncated
            elif k < 0.93:
                parts = [p.strip() for p in t.split(",")]
                cut = rng.randrange(1, max(2, len(parts)))
                t = repr([", ".join(parts[:cut]), ", ".join(parts[cut:])])
            else:
                t = t.upper() if rng.random() < 0.5 else t.lower()
        out.append(t)
    return out


def dump(outdir: Path, rows: int, only: set[str] | None = None) -> None:
    from catalog_gen import generate

    from recommender.knowledge.reader import Reader, default_reader, load_aliases

    outdir.mkdir(parents=True, exist_ok=True)
    reader = default_reader()
    cats = catalog_texts()
    sums = {}

    def write(name: str, lines) -> None:
        if only and name not in only:
            return
        h = hashlib.sha256()
        with open(outdir / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for line in lines:
                fh.write(line + "\n")
                h.update(line.encode() + b"\n")
        sums[name] = h.hexdigest()
        print(name, sums[name], flush=True)

    for name, texts in cats.items():
        write(name, (serial(reader.read(t)) for t in texts))
    write("test_literals", (serial(reader.read(t)) for t in test_literals()))
    write("canonicalise_literals", (json.dumps(reader.canonicalise(t)) for t in test_literals()))
    write("test_literals_nofuzzy", (serial(reader.read(t, fuzzy=False)) for t in test_literals()))
    everything = [t for texts in cats.values() for t in texts]
    fresh = Reader(reader.kb, load_aliases(), reader.rules, reader.fallback)
    write("catalogs_read_many", (serial(p) for i in range(0, len(everything), 700)
                                 for p in fresh.read_many(everything[i:i + 700])))
    stress = structural(everything, 40_000, seed=1)
    write("structural", (serial(reader.read(t)) for t in stress))
    if rows and (not only or only & {"generated_cold", "generated_warm_many"}):
        gen = generate(rows, 0)["ingredients"].tolist()
        cold = Reader(reader.kb, load_aliases(), reader.rules, reader.fallback)
        cold.canon._lookups.clear()
        write("generated_cold", (hashlib.sha1(serial(cold.read(t)).encode()).hexdigest() for t in gen))
        write("generated_warm_many", (hashlib.sha1(serial(p).encode()).hexdigest()
                                      for i in range(0, len(gen), 2000)
                                      for p in cold.read_many(gen[i:i + 2000])))
    if not only:
        (outdir / "SUMS.json").write_text(json.dumps(sums, indent=1))


def compare(a: Path, b: Path) -> int:
    bad = 0
    for fb in sorted(b.glob("*.jsonl")):
        fa = a / fb.name
        if not fa.exists():
            print(f"{fb.name}: missing in {a}")
            bad += 1
            continue
        da, db = fa.read_bytes(), fb.read_bytes()
        if da == db:
            print(f"{fa.name}: identical ({da.count(10)} rows, {len(da):,} bytes)")
            continue
        bad += 1
        la = fa.read_text(encoding="utf-8").splitlines()
        lb = fb.read_text(encoding="utf-8").splitlines()
        diff = [i for i, (x, y) in enumerate(zip(la, lb, strict=False)) if x != y]
        print(f"{fa.name}: DIFFERENT ({len(diff)} rows of {len(la)}; lengths {len(la)}/{len(lb)})")
        for i in diff[:3]:
            print("  row", i, "\n  A:", la[i][:600], "\n  B:", lb[i][:600])
    return 1 if bad else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("outdir", type=Path)
    d.add_argument("--rows", type=int, default=200_000)
    d.add_argument("--only", default="", help="comma-separated dump names (default: all)")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args.outdir, args.rows, set(filter(None, args.only.split(","))) or None)
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
