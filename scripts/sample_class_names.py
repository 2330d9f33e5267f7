#!/usr/bin/env python
"""Draw the reproducible sample of ingredient names for the hand-labelled
class gold set (tests/fixtures/class_labels.csv).

Usage:
    .venv/bin/python scripts/sample_class_names.py [--out PATH]

Reads the three catalogs under $SKINREC_DATA_DIR (default /work/shared/data),
splits every ingredient field naively, deduplicates case-insensitively and
draws two strata with numpy.random.default_rng(20261129):

  uniform   300 distinct names drawn uniformly from all distinct names
  enriched  200 further distinct names drawn uniformly from the names whose
            lower-case text contains one of KEYWORDS (excluding 'uniform')

Writes a CSV with columns name,catalog,stratum,classes,note where classes and
note are left empty (they are filled by hand). With --out omitted the sample
is printed to stdout. This script never assigns classes.
"""
from __future__ import annotations

import argparse
import ast
import csv
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261129
N_UNIFORM = 300
N_ENRICHED = 200
MAX_LEN = 120

KEYWORDS = [
    "acid", "retin", "ascorb", "salicyl", "alcohol", "oil", "parfum",
    "fragrance", "ci ", "iron oxide", "mica", "peptide", "ceramide",
    "panthenol", "niacinamide", "centella", "hyalur", "glycer", "oxide",
    "benzo", "octi", "homosalate", "avobenzone", "lactone", "growth", "egf",
    "powder", "shell", "seed", "extract", "limonene", "linalool", "citral",
    "geraniol",
]

# (catalog id, relative path, column, is a stringified Python list)
CATALOGS = [
    ("sephora_2023", "catalogs/sephora_2023/product_info.csv", "ingredients", True),
    ("cosmetics_2017", "catalogs/cosmetics_2017/cosmetics.csv", "Ingredients", False),
    ("lookfantastic_2020", "catalogs/lookfantastic_2020/skincare_products_clean.csv",
     "clean_ingreds", True),
]

OPEN = "([{"
CLOSE = ")]}"


def data_dir() -> Path:
    return Path(os.environ.get("SKINREC_DATA_DIR", "/work/shared/data"))


def field_text(value, is_list: bool) -> str:
    """Return the raw ingredient text of one catalog cell."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = str(value)
    if is_list:
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(parsed, (list, tuple)):
            return ", ".join(str(p) for p in parsed)
        return str(parsed)
    return text


def split_naive(text: str) -> list[str]:
    """Split on commas that are not inside ()[]{} and not between two digits."""
    parts: list[str] = []
    buf: list[str] = []
    depth = 0
    n = len(text)
    for i, ch in enumerate(text):
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            prev_digit = i > 0 and text[i - 1].isdigit()
            next_digit = i + 1 < n and text[i + 1].isdigit()
            if not (prev_digit and next_digit):
                parts.append("".join(buf))
                buf = []
                continue
        buf.append(ch)
    parts.append("".join(buf))
    return parts


def clean(piece: str) -> str:
    """Strip whitespace, trailing periods and leading asterisks (to a fixpoint)."""
    prev = None
    s = piece
    while s != prev:
        prev = s
        s = s.strip().rstrip(".").lstrip("*")
    return s


def distinct_names(root: Path) -> dict[str, tuple[str, str]]:
    """casefolded key -> (first printed spelling, catalog it was first seen in).

    Catalogs are read in the fixed order of CATALOGS and rows in file order, so
    the kept spelling is deterministic.
    """
    seen: dict[str, tuple[str, str]] = {}
    for cat_id, rel, col, is_list in CATALOGS:
        df = pd.read_csv(root / rel, usecols=[col], dtype=str, keep_default_na=False)
        for value in df[col]:
            for piece in split_naive(field_text(value, is_list)):
                name = clean(piece)
                if not name or len(name) > MAX_LEN:
                    continue
                key = name.casefold()
                if key not in seen:
                    seen[key] = (name, cat_id)
    return seen


def draw(seen: dict[str, tuple[str, str]]) -> list[tuple[str, str, str]]:
    rng = np.random.default_rng(SEED)
    keys = sorted(seen)  # fixed order independent of dict insertion
    idx = rng.choice(len(keys), size=N_UNIFORM, replace=False)
    uniform = [keys[i] for i in idx]
    taken = set(uniform)
    pool = [k for k in keys
            if k not in taken and any(kw in seen[k][0].lower() for kw in KEYWORDS)]
    idx2 = rng.choice(len(pool), size=N_ENRICHED, replace=False)
    enriched = [pool[i] for i in idx2]
    rows = [(seen[k][0], seen[k][1], "uniform") for k in uniform]
    rows += [(seen[k][0], seen[k][1], "enriched") for k in enriched]
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write the unlabelled sample CSV here")
    args = ap.parse_args(argv)
    seen = distinct_names(data_dir())
    rows = draw(seen)
    print(f"distinct names: {len(seen)}", file=sys.stderr)
    fh = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    try:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["name", "catalog", "stratum", "classes", "note"])
        for name, cat, stratum in rows:
            w.writerow([name, cat, stratum, "", ""])
    finally:
        if args.out:
            fh.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
