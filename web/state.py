"""What the app loads once per process: the catalog, the protocol, the models.

Answers the need "every request only scores": :func:`init_app` (called by create_app, so
before gunicorn forks with ``--preload``) reads the catalog into a
:class:`~recommender.scoring.prepared.PreparedCatalog`, loads the protocol (a clinic's file
when SKINREC_PROTOCOL / ``PROTOCOL`` names one) and warms the knowledge base and the learned
models. Views reach it through :func:`get_state`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from flask import Flask, current_app

from recommender import config
from recommender.safety import Protocol, default_protocol, load_protocol
from recommender.scoring.prepared import PreparedCatalog

log = logging.getLogger("skinrec.web")
EXTENSION = "skinrec"


@dataclass
class AppState:
    catalog: PreparedCatalog
    protocol: Protocol
    catalog_label: str            # what the pages say about the catalog
    rejected_rows: int            # catalog records that could not be read
    custom_protocol: bool

    @property
    def demo(self) -> bool:
        return self.catalog.demo


def load_catalog_frame(spec: str) -> tuple[pd.DataFrame, int]:
    """A shared catalog name (sephora_2023 ...) or a file (CSV, Parquet, JSONL) -> frame.

    Returns the frame and the number of records that could not be read.
    """
    if spec in config.CATALOGS and not Path(spec).exists():
        from recommender.catalogs import load_catalog

        df = load_catalog(spec, keep_all=True)
        if "price_usd" in df.columns and "price" not in df.columns:
            df = df.rename(columns={"price_usd": "price"})
        return df, 0
    from recommender.batch.io import detect_format, read_chunks

    frames, rejected = [], 0
    for chunk in read_chunks(spec, detect_format(spec)):
        rejected += len(chunk.rejects)
        frames.append(chunk.frame)
    if not frames:
        raise ValueError(f"catalog {spec} has no rows")
    df = pd.concat(frames, ignore_index=True).drop(columns=["input_row"], errors="ignore")
    return df, rejected


def load_state(catalog_spec: str, protocol_path: str | None) -> AppState:
    protocol = load_protocol(protocol_path) if protocol_path else default_protocol()
    df, rejected = load_catalog_frame(str(catalog_spec))
    demo = Path(str(catalog_spec)).resolve() == config.DEMO_CATALOG.resolve()
    source = "demo catalog (invented products)" if demo else str(catalog_spec)
    pc = PreparedCatalog(df, source=source, demo=demo)
    _warm(pc, protocol)
    log.info("catalog %s: %d products (%d rows rejected); protocol %s %s", source, len(pc),
             rejected, protocol.name, protocol.version)
    return AppState(pc, protocol, source, rejected, protocol_path is not None)


def _warm(pc: PreparedCatalog, protocol: Protocol) -> None:
    """Load the knowledge base, the models and the common safety tables now (before gunicorn
    forks, so every worker shares them), not on the first request."""
    from recommender.scoring import make_score_context

    if len(pc):
        pc.warm(protocol)
        pc.score(make_score_context(protocol=protocol), [pc.frame["product_id"].iloc[0]])


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = load_state(app.config["CATALOG"], app.config["PROTOCOL"])


def get_state() -> AppState:
    return current_app.extensions[EXTENSION]
