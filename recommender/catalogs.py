"""Loading the shared catalogs under one schema: product_id, name, brand, category, ingredients.

Answers: sephora_2023 has product ids; cosmetics_2017 and lookfantastic_2020 do not,
so their id is the 0-based row number prefixed by the catalog ("cosmetics_2017:17").
"""

from __future__ import annotations

import pandas as pd

from recommender import config

_COLUMNS = {
    "sephora_2023": {
        "product_id": "product_id",
        "product_name": "name",
        "brand_name": "brand",
        "secondary_category": "category",
        "ingredients": "ingredients",
    },
    "cosmetics_2017": {"Name": "name", "Brand": "brand", "Label": "category", "Ingredients": "ingredients"},
    "lookfantastic_2020": {
        "product_name": "name",
        "product_type": "category",
        "clean_ingreds": "ingredients",
    },
}


def load_catalog(name: str, *, keep_all: bool = False) -> pd.DataFrame:
    """Read one shared catalog from the data directory with unified column names.

    ``keep_all`` keeps the catalog's own columns too (labels, prices ...).
    """
    if name not in config.CATALOGS:
        raise KeyError(f"unknown catalog {name!r}; known: {', '.join(config.CATALOGS)}")
    rel = config.CATALOGS[name][0]
    path = config.data_path(rel)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found. {config.DATA_HOWTO}")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    mapping = _COLUMNS[name]
    df = raw.rename(columns=mapping)
    if "product_id" not in df.columns:
        df.insert(0, "product_id", [f"{name}:{i}" for i in range(len(df))])
    if "brand" not in df.columns:
        df["brand"] = ""
    if not keep_all:
        df = df[["product_id", "name", "brand", "category", "ingredients"]]
    return df.reset_index(drop=True)
