"""A realistic large catalog made by perturbing the real lists of the shared catalogs.

Each generated row takes a real ingredient field, then (seeded) swaps neighbours after
position 5, drops or borrows an ingredient from another product, and rewrites about 10 % of
its tokens in a casing, spacing or format variant (UPPER, lower, doubled spaces, "Cl" for
"CI", a footnote star, a spaced hyphen, a trailing period, a bracketed alias), so that
caches of whole lists cannot carry a benchmark: the share of distinct lists is reported.
"""

from __future__ import annotations

import random
import re

import pandas as pd

from recommender.catalogs import load_catalog

_SPLIT = re.compile(r",\s*(?![^()]*\))")


def _variant(tok: str, rng: random.Random) -> str:
    k = rng.randrange(8)
    if k == 0:
        return tok.upper()
    if k == 1:
        return tok.lower()
    if k == 2:
        return tok.replace(" ", "  ", 1) if " " in tok else " " + tok
    if k == 3:
        return re.sub(r"\bCI\b", "Cl", tok, flags=re.I) if "ci " in tok.lower() else tok + "*"
    if k == 4:
        return tok.replace("-", " - ", 1) if "-" in tok else tok.title()
    if k == 5:
        return tok + "."
    if k == 6:
        return "*" + tok
    return f"{tok} (and)" if len(tok) < 12 else tok.swapcase()


def source_lists(seed: int = 0) -> list[list[str]]:
    """Real lists from the three shared catalogs, split into tokens."""
    from recommender.inci.clean import normalise, unlist

    out = []
    for name in ("sephora_2023", "cosmetics_2017", "lookfantastic_2020"):
        for text in load_catalog(name)["ingredients"]:
            if not text.strip():
                continue
            pieces = unlist(text)
            flat = ", ".join(pieces) if pieces is not None else text
            toks = [t.strip() for t in _SPLIT.split(normalise(flat)) if t.strip()]
            if len(toks) >= 3:
                out.append(toks)
    return out


def generate(n_rows: int, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    lists = source_lists(seed)
    rows = []
    for i in range(n_rows):
        toks = list(rng.choice(lists))
        if len(toks) > 6 and rng.random() < 0.7:
            j = rng.randrange(5, len(toks) - 1)
            toks[j], toks[j + 1] = toks[j + 1], toks[j]
        r = rng.random()
        if r < 0.3 and len(toks) > 4:
            del toks[rng.randrange(1, len(toks))]
        elif r < 0.6:
            other = rng.choice(lists)
            toks.insert(rng.randrange(1, len(toks) + 1), rng.choice(other))
        toks = [_variant(t, rng) if rng.random() < 0.10 else t for t in toks]
        rows.append((f"GEN{i:07d}", f"Generated product {i}", ", ".join(toks)))
    return pd.DataFrame(rows, columns=["product_id", "name", "ingredients"])


def distinct_share(frame: pd.DataFrame) -> float:
    return frame["ingredients"].nunique() / len(frame)
