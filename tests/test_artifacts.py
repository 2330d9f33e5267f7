"""Artifact persistence: manifest, sha256 check, scikit-learn version policy, determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import sklearn

from recommender.learn import artifacts
from recommender.learn.artifacts import (
    ArtifactError,
    ArtifactVersionWarning,
    load_artifact,
    save_artifact,
)


def _model(seed: int = 0):
    from sklearn.ensemble import GradientBoostingRegressor

    rng = np.random.RandomState(seed)
    X = rng.rand(60, 4)
    y = X[:, 0] - 2 * X[:, 1] + rng.normal(0, 0.1, 60)
    return GradientBoostingRegressor(n_estimators=20, random_state=seed).fit(X, y), X


@pytest.fixture()
def saved(tmp_path):
    model, X = _model()
    inp = tmp_path / "input.csv"
    inp.write_text("a,b\n1,2\n")
    path = tmp_path / "m.joblib"
    entry = save_artifact(model, path, metrics={"r2": 0.5}, inputs={"train": inp}, seed=7)
    return path, entry, model, X


def test_round_trip_and_manifest(saved):
    path, entry, model, X = saved
    manifest = json.loads((path.parent / "manifest.json").read_text())
    rec = manifest["artifacts"]["m.joblib"]
    assert rec["sha256"] == artifacts.sha256_file(path) == entry["sha256"]
    assert rec["versions"]["scikit-learn"] == sklearn.__version__
    assert {"python", "numpy", "pandas"} <= set(rec["versions"])
    assert rec["inputs"]["train"]["sha256"] == artifacts.sha256_bytes(b"a,b\n1,2\n")
    assert rec["metrics"] == {"r2": 0.5} and rec["seed"] == 7
    loaded, got = load_artifact(path, with_entry=True)
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert got["sha256"] == entry["sha256"]


def test_second_artifact_updates_same_manifest(saved, tmp_path):
    path, *_ = saved
    other, _ = _model(1)
    save_artifact(other, tmp_path / "n.joblib", metrics={}, inputs={})
    names = set(json.loads((tmp_path / "manifest.json").read_text())["artifacts"])
    assert names == {"m.joblib", "n.joblib"}
    load_artifact(path)  # the first entry survived the update


def test_tampered_file_is_refused(saved):
    path, *_ = saved
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="skinrec train"):
        load_artifact(path)


def test_unlisted_file_is_never_unpickled(tmp_path):
    import joblib

    canary = tmp_path / "canary"

    class Boom:
        def __reduce__(self):  # would create the canary file if ever unpickled
            return (open, (str(canary), "w"))

    joblib.dump(Boom(), tmp_path / "evil.joblib")
    with pytest.raises(ArtifactError, match="not listed"):
        load_artifact(tmp_path / "evil.joblib")
    assert not canary.exists()


def test_missing_file(tmp_path):
    with pytest.raises(ArtifactError, match="skinrec train"):
        load_artifact(tmp_path / "nope.joblib")


def _rewrite_version(path, version: str) -> None:
    mpath = path.parent / "manifest.json"
    manifest = json.loads(mpath.read_text())
    manifest["artifacts"][path.name]["versions"]["scikit-learn"] = version
    mpath.write_text(json.dumps(manifest))


def test_other_minor_version_refused(saved):
    path, *_ = saved
    major, minor = (int(x) for x in sklearn.__version__.split(".")[:2])
    _rewrite_version(path, f"{major}.{minor - 1}.0")
    with pytest.raises(ArtifactError, match=r"minor.*skinrec train"):
        load_artifact(path)


def test_patch_difference_warns(saved):
    path, _, model, X = saved
    major, minor, patch = artifacts._parse_version(sklearn.__version__)
    _rewrite_version(path, f"{major}.{minor}.{patch + 1}")
    with pytest.warns(ArtifactVersionWarning, match="scikit-learn"):
        loaded = load_artifact(path)
    assert np.array_equal(loaded.predict(X), model.predict(X))


def test_same_version_is_silent(saved):
    path, *_ = saved
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_artifact(path)


_CHILD = """
import sys, numpy as np
from recommender.learn.artifacts import dumps_artifact, sha256_bytes
from sklearn.ensemble import GradientBoostingRegressor
rng = np.random.RandomState(0)
X = rng.rand(60, 4); y = X[:, 0] - 2 * X[:, 1]
m = GradientBoostingRegressor(n_estimators=20, random_state=0).fit(X, y)
obj = {"model": m, "features": ("a", "b", "c", "d"), "meta": {"unit": "cm/h"}}
print(sha256_bytes(dumps_artifact(obj)))
"""


def test_bytes_identical_across_processes_and_hash_seeds():
    digests = set()
    for hashseed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                             text=True, check=True, timeout=60)
        digests.add(out.stdout.strip())
    assert len(digests) == 1
