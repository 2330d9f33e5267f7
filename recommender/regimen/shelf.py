"""The clinic's shelf: a CSV of its own products, or product ids from a shared catalog.

Which need it answers: an aesthetician plans from what the clinic stocks. The shelf is a
table with ``product_id``, ``name``, ``ingredients`` (the INCI list as printed) and
optionally ``category`` and ``step`` (cleanse / treat / moisturize / protect, to override
skinrec's guess). Bad input is refused with a :class:`ShelfError` that says what to fix:
an empty file, no ingredient column, a duplicate or unknown product id, a step name skinrec
does not know, more products than a shelf holds. A row whose ingredient field cannot be
read is kept (it is reported as "cannot be checked" and never placed), as in
``skinrec score``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import pandas as pd

from recommender.regimen.model import RegimenError
from recommender.regimen.rules import STEP_IDS
from recommender.scoring.frame import INGREDIENT_CANDIDATES

MAX_SHELF = 300          # design choice: a clinic shelf, not a catalog (use `skinrec recommend`)
ID_COLUMNS = ("product_id", "id", "sku")


class ShelfError(RegimenError):
    """A shelf that cannot be planned from; the message says what to fix."""


def normalise_shelf(df: pd.DataFrame, *, source: str = "the shelf") -> pd.DataFrame:
    """Columns product_id, name, category, ingredients, step (text, '' when absent); checked.

    ``df`` may also be a list of dicts (a JSON request body's products)."""
    if df is not None and not isinstance(df, pd.DataFrame):
        try:
            df = pd.DataFrame(list(df))
        except (TypeError, ValueError) as exc:
            raise ShelfError(f"{source} must be a table or a list of products: {exc}") from None
    if df is None or len(df.columns) == 0:
        raise ShelfError(f"{source} is empty: give a CSV with a header row "
                         "(product_id, name, ingredients[, category, step])")
    lower = {str(c).strip().casefold(): c for c in df.columns}
    ing = next((lower[c] for c in INGREDIENT_CANDIDATES if c in lower), None)
    if ing is None:
        raise ShelfError(f"{source} has no ingredients column (tried "
                         + ", ".join(INGREDIENT_CANDIDATES) + "); columns: "
                         + ", ".join(map(str, df.columns)))
    if len(df) == 0:
        raise ShelfError(f"{source} has a header but no products")
    if len(df) > MAX_SHELF:
        raise ShelfError(f"{source} has {len(df)} products; a shelf holds at most {MAX_SHELF} "
                         "(score a catalog with `skinrec recommend`)")
    idc = next((lower[c] for c in ID_COLUMNS if c in lower), None)

    def col(name):
        c = lower.get(name)
        return [("" if _missing(v) else str(v).strip()) for v in df[c]] if c is not None \
            else [""] * len(df)

    ids = [("" if _missing(v) else str(v).strip()) for v in df[idc]] if idc is not None \
        else [""] * len(df)
    ids = [v or f"row-{i}" for i, v in enumerate(ids, 1)]
    seen: dict[str, int] = {}
    for i, pid in enumerate(ids, 1):
        if pid in seen:
            raise ShelfError(f"{source}: product id {pid!r} appears twice (rows {seen[pid]} "
                             f"and {i}); ids must be unique")
        seen[pid] = i
    names = col("name") if "name" in lower else col("product_name")
    steps = [s.casefold() for s in col("step")]
    for i, s in enumerate(steps, 1):
        if s and s not in STEP_IDS:
            raise ShelfError(f"{source}, row {i}: unknown step {s!r} "
                             f"(known: {', '.join(STEP_IDS)}, or leave it empty)")
    ingredients = [("" if _missing(v) else str(v)) for v in df[ing]]
    out = pd.DataFrame({
        "product_id": ids,
        "name": [n or pid for n, pid in zip(names, ids, strict=True)],
        "category": col("category"),
        "ingredients": ingredients,
        "step": steps,
    })
    return out


def read_shelf_csv(data: bytes | str, *, source: str = "the shelf CSV") -> pd.DataFrame:
    """Read a shelf CSV (bytes or text; UTF-8, else cp1252) into the normalised frame."""
    if isinstance(data, bytes):
        if b"\x00" in data[:65536]:
            raise ShelfError(f"{source} is binary data, not a CSV")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    else:
        text = data
    if not text.strip():
        raise ShelfError(f"{source} is empty: give a CSV with a header row "
                         "(product_id, name, ingredients[, category, step])")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ShelfError(f"{source} is not a readable CSV: {exc}") from None
    return normalise_shelf(df, source=source)


def shelf_from_catalog(refs: Iterable[str], loader=None) -> pd.DataFrame:
    """"sephora_2023:P442540" references -> the normalised shelf frame.

    cosmetics_2017 and lookfantastic_2020 ids carry the catalog name already
    ("cosmetics_2017:17"); both "cosmetics_2017:17" and "cosmetics_2017:cosmetics_2017:17"
    are accepted. ``loader(name) -> DataFrame`` defaults to recommender.catalogs.load_catalog.
    """
    from recommender import config

    if loader is None:
        from recommender.catalogs import load_catalog as loader
    refs = [r.strip() for r in refs if r and r.strip()]
    if not refs:
        raise ShelfError("no products given: --products catalog:id,catalog:id,...")
    frames: dict[str, pd.DataFrame] = {}
    rows = []
    for ref in refs:
        cat, sep, pid = ref.partition(":")
        if not sep or not pid:
            raise ShelfError(f"product {ref!r}: expected catalog:id (e.g. sephora_2023:P442540)")
        if cat not in config.CATALOGS:
            raise ShelfError(f"product {ref!r}: unknown catalog {cat!r} (known: "
                             + ", ".join(config.CATALOGS) + ")")
        if cat not in frames:
            try:
                frames[cat] = loader(cat)
            except FileNotFoundError as exc:
                raise ShelfError(str(exc)) from None
        df = frames[cat]
        hit = df.loc[df["product_id"].isin([pid, f"{cat}:{pid}"])]
        if len(hit) != 1:
            raise ShelfError(f"product {ref!r}: no product with id {pid!r} in {cat}")
        row = hit.iloc[0]
        rows.append({"product_id": ref if not row["product_id"].startswith(f"{cat}:")
                     else row["product_id"], "name": row["name"],
                     "category": row.get("category", ""), "ingredients": row["ingredients"]})
    return normalise_shelf(pd.DataFrame(rows), source="--products")


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA
