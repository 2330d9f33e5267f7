"""Shared fixtures. Real examples come from the data directory by catalog and product id.

Without the data directory, tests that need it skip with a message saying how to get
it, except under CI (CI=true), where a missing data directory is a failure.
"""

from __future__ import annotations

import os

import pytest

from recommender import config


def _require_data() -> None:
    if config.data_dir().is_dir() and (config.data_dir() / "catalogs").is_dir():
        return
    msg = f"data directory {config.data_dir()} not found. {config.DATA_HOWTO}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def data_dir():
    _require_data()
    return config.data_dir()


@pytest.fixture(scope="session")
def catalogs(data_dir):
    """Loader: catalogs('sephora_2023') -> DataFrame (cached per session)."""
    from recommender.catalogs import load_catalog

    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = load_catalog(name)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def product(catalogs):
    """product('sephora_2023', 'P439055') -> the raw ingredient field of that product."""

    def get(catalog: str, product_id: str) -> str:
        df = catalogs(catalog)
        row = df.loc[df["product_id"] == product_id]
        assert len(row) == 1, f"{catalog}:{product_id} not found in the data directory"
        return row.iloc[0]["ingredients"]

    return get
