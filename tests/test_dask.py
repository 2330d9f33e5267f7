"""The Dask engine on a real distributed.LocalCluster (2 worker processes) equals the local
engine row for row, rejects included. Small on purpose: 70 real products, 3 partitions,
without the learned models (their columns are tested in test_score_frame.py)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from recommender.batch.dask_engine import run_dask, score_dask_frame  # noqa: E402
from recommender.batch.local import run_local  # noqa: E402
from recommender.scoring import make_score_context, score_frame  # noqa: E402

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=50)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def catalog_csv(tmp_path_factory, catalogs):
    df = catalogs("sephora_2023").iloc[4000:4070][["product_id", "name", "category",
                                                   "ingredients"]]
    path = tmp_path_factory.mktemp("dask") / "catalog.csv"
    lines = df.to_csv(index=False, lineterminator="\n").split("\n")
    lines.insert(20, 'BROKEN,"never closed,Cleansers,Water')     # a bad quote, mid-partition
    lines.insert(50, "ragged,row")
    path.write_text("\n".join(lines))
    return path


def read_parts(directory, pattern, reader):
    files = sorted(directory.glob(pattern))
    assert files, f"no {pattern} in {directory}"
    return pd.concat([reader(f) for f in files], ignore_index=True)


def as_text(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype(str).sort_values("input_row", key=lambda s: s.astype(int)).reset_index(drop=True)


def test_dask_equals_local_row_for_row(tmp_path, client, catalog_csv):
    ctx = make_score_context(day=2.5, concerns="dryness", use_models=False)
    local_out = tmp_path / "local.csv"
    ls = run_local(str(catalog_csv), str(local_out), ctx)
    ds = run_dask(str(catalog_csv), str(tmp_path / "dask_csv"), ctx, fmt_out="csv",
                  partition_rows=25, client=client)
    dp = run_dask(str(catalog_csv), str(tmp_path / "dask_pq"), ctx, fmt_out="parquet",
                  partition_rows=25, client=client)
    for s in (ls, ds, dp):
        assert (s.rows, s.scored, s.rejected) == (72, 70, 2)
        assert s.consistent
    assert ds.verdicts == ls.verdicts == dp.verdicts

    local = pd.read_csv(local_out, dtype=str, keep_default_na=False)
    got_csv = read_parts(tmp_path / "dask_csv", "part-*.csv",
                         lambda f: pd.read_csv(f, dtype=str, keep_default_na=False))
    assert len(list((tmp_path / "dask_csv").glob("part-*.csv"))) == 3
    pd.testing.assert_frame_equal(as_text(got_csv), as_text(local))

    got_pq = read_parts(tmp_path / "dask_pq", "part.*.parquet", pd.read_parquet)
    local_typed = pd.read_csv(local_out, keep_default_na=False, na_values=[""],
                              dtype={"product_id": str, "name": str, "category": str,
                                     "ingredients": str})
    got_pq = got_pq.sort_values("input_row").reset_index(drop=True)
    assert list(got_pq.columns) == list(local_typed.columns)
    for col in ("verdict", "flags", "reasons_for", "reasons_against", "unrecognized"):
        assert got_pq[col].tolist() == local_typed[col].tolist(), col
    for col in ("safe_from_day", "post_needling_score", "score_when_safe"):
        pd.testing.assert_series_equal(got_pq[col], local_typed[col].astype(float),
                                       check_names=False)

    local_rej = pd.read_csv(tmp_path / "local.rejects.csv", dtype=str, keep_default_na=False)
    dask_rej = read_parts(tmp_path / "dask_csv" / "_rejects", "part-*.csv",
                          lambda f: pd.read_csv(f, dtype=str, keep_default_na=False))
    key = lambda s: s.astype(int)  # noqa: E731
    pd.testing.assert_frame_equal(
        dask_rej.sort_values("row", key=key).reset_index(drop=True),
        local_rej.sort_values("row", key=key).reset_index(drop=True))
    summary = json.loads((tmp_path / "dask_pq" / "_summary.json").read_text())
    assert summary["rows"] == summary["scored"] + summary["rejected"] == 72


def test_score_dask_frame_api(client, catalogs):
    import dask
    import dask.dataframe as dd

    df = catalogs("cosmetics_2017").iloc[:40]
    ctx = make_score_context(day=3, use_models=False)
    with dask.config.set({"dataframe.convert-string": False}):   # keep pandas' own dtypes
        got = score_dask_frame(dd.from_pandas(df, npartitions=3), ctx).compute()
    pd.testing.assert_frame_equal(got, score_frame(df, ctx))


def test_parquet_input_row_groups_and_glob(tmp_path, client, catalogs):
    df = catalogs("cosmetics_2017").iloc[100:160].reset_index(drop=True)
    (tmp_path / "in").mkdir()
    df.iloc[:30].to_parquet(tmp_path / "in" / "a.parquet", index=False, row_group_size=10)
    df.iloc[30:].to_parquet(tmp_path / "in" / "b.parquet", index=False, row_group_size=10)
    ctx = make_score_context(day=4, use_models=False)
    s = run_dask(str(tmp_path / "in" / "*.parquet"), str(tmp_path / "out"), ctx, client=client)
    assert (s.rows, s.scored, s.rejected) == (60, 60, 0)
    got = read_parts(tmp_path / "out", "part.*.parquet", pd.read_parquet)
    assert len(list((tmp_path / "out").glob("part.*.parquet"))) == 6      # one per row group
    got = got.sort_values(["input_file", "input_row"]).reset_index(drop=True)
    assert got["input_file"].str.endswith(("a.parquet", "b.parquet")).all()
    assert list(got["input_row"]) == list(range(1, 31)) * 2
    ref = score_frame(df, ctx)
    assert list(got["verdict"]) == list(ref["verdict"])
    assert list(got["flags"]) == list(ref["flags"])
