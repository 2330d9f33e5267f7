"""A catalog read once and scored per request: the web app's and the regimen's catalog.

Which need it answers: the web app (and an aesthetician's shelf) asks many questions of the
same catalog for different people; re-reading every ingredient list per request would cost
seconds on a 10k-product catalog. :class:`PreparedCatalog` holds the catalog frame and
answers ``recommend`` / ``score`` through :func:`recommender.scoring.score_frame` (the one
scoring path) and :func:`recommender.recommend.recommend` (the ranking), so a prepared
catalog never ranks differently from ``skinrec recommend`` on the same file.

Interface (stable; the internals may cache more):

- ``PreparedCatalog(df, columns=None, source="", demo=False)``; ``len(pc)``; ``pc.frame``
  (the input frame plus ``input_row`` 1..n and ``product_id`` as text, the row number when
  the catalog has no id column);
- ``pc.recommend(context, k=10, budget=None, strict=False) -> dict`` (the shape of
  ``skinrec recommend --json``);
- ``pc.score(context, product_ids=None) -> DataFrame`` (score_frame rows, in catalog order);
- ``pc.product(product_id) -> dict | None`` (the catalog row as plain values).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

from recommender.scoring.context import ScoreContext
from recommender.scoring.frame import resolve_columns, score_frame

ID_CANDIDATES = ("product_id", "id", "sku", "Product ID")


class PreparedCatalog:
    """One catalog, loaded once per process."""

    def __init__(self, df: pd.DataFrame, *, columns: Mapping[str, str] | None = None,
                 source: str = "", demo: bool = False):
        self.columns = dict(columns or {})
        self.cols = resolve_columns(df.columns, self.columns)   # raises ColumnError
        frame = df.copy()
        if "input_row" not in frame.columns:
            frame["input_row"] = range(1, len(frame) + 1)
        id_col = next((c for c in ID_CANDIDATES if c in frame.columns), None)
        ids = frame[id_col] if id_col else frame["input_row"]
        frame["product_id"] = [str(v) if not _missing(v) else str(r)
                               for v, r in zip(ids, frame["input_row"], strict=True)]
        self.frame = frame.reset_index(drop=True)
        self.source = source
        self.demo = demo
        self._by_id = {pid: i for i, pid in enumerate(self.frame["product_id"])}

    def __len__(self) -> int:
        return len(self.frame)

    def product(self, product_id) -> dict | None:
        i = self._by_id.get(str(product_id))
        if i is None:
            return None
        return {k: (None if _missing(v) else v) for k, v in self.frame.iloc[i].items()}

    def rows_for(self, product_ids: Iterable) -> list[int]:
        """Row positions of the given ids; raises KeyError naming the first unknown id."""
        out = []
        for pid in product_ids:
            i = self._by_id.get(str(pid))
            if i is None:
                raise KeyError(f"no product with id {pid!r} in {self.source or 'the catalog'}")
            out.append(i)
        return out

    def score(self, context=None, product_ids: Iterable | None = None) -> pd.DataFrame:
        ctx = ScoreContext.coerce(context)
        part = self.frame if product_ids is None else self.frame.iloc[self.rows_for(product_ids)]
        return score_frame(part, ctx, columns=self.columns)

    def recommend(self, context=None, *, k: int = 10, budget: float | None = None,
                  strict: bool = False) -> dict:
        from recommender.recommend import recommend

        return recommend(self.frame, context, k=k, budget=budget, strict=strict,
                         columns=self.columns)


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or v == ""
