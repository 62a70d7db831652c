"""The on-device app's reference data is what segcore serves today: regenerating
edge/site/pipeline.json and edge/test/vectors.json.gz (python -m devtools.edge_vectors) changes
nothing, so a change to the served pipeline, the model or the quality estimate's fit fails here
until they are regenerated (and the app's `node --test` then checks the JavaScript against
them)."""

from __future__ import annotations

import gzip
import json

from devtools import edge_vectors
from segcore.flips import TEST_TIME_FLIPS
from segcore.measurements import UNCERTAIN
from segcore.processing import THRESHOLD
from segcore.quality import MAX_COMPONENTS, SIGNALS, QualityModel


def test_committed_pipeline_and_vectors_are_current() -> None:
    config, data = edge_vectors.vectors()
    assert edge_vectors.PIPELINE.read_text() == edge_vectors.pipeline_text(config), (
        "edge/site/pipeline.json is stale: run python -m devtools.edge_vectors"
    )
    committed = json.loads(gzip.decompress(edge_vectors.VECTORS.read_bytes()))
    assert committed == json.loads(json.dumps(data)), (
        "edge/test/vectors.json.gz is stale: run python -m devtools.edge_vectors"
    )


def test_pipeline_names_the_served_constants() -> None:
    config = json.loads(edge_vectors.PIPELINE.read_text())
    assert config["flips"] == TEST_TIME_FLIPS
    assert config["threshold"] == THRESHOLD
    assert config["model"]["flavour"] == "int8"


def test_pipeline_carries_the_served_quality_estimate() -> None:
    quality = json.loads(edge_vectors.PIPELINE.read_text())["quality"]
    fitted = QualityModel.load()
    assert quality["signals"] == list(SIGNALS)
    assert (quality["means"], quality["scales"], quality["coefficients"]) == (
        list(fitted.means),
        list(fitted.scales),
        list(fitted.coefficients),
    )
    assert (quality["intercept"], quality["threshold"]) == (fitted.intercept, fitted.threshold)
    assert quality["uncertain"] == list(UNCERTAIN)
    assert quality["max_components"] == MAX_COMPONENTS
    assert quality["lesion_threshold"] == THRESHOLD
    assert quality["model_sha256"] == fitted.model_sha256


def test_quality_vectors_cover_flagged_and_fine_results() -> None:
    _, data = edge_vectors.vectors()
    maps = data["quality"]["maps"]
    assert {m["needs_review"] for m in maps} == {True, False}
    assert any(m["count"] > MAX_COMPONENTS for m in maps), "a map past the components' cap"
    assert any(m["reasons"] == ["no lesion found"] for m in maps)
    assert all(bool(m["reasons"]) == m["needs_review"] for m in maps)
    assert all("quality" in image for image in data["images"])


def test_vectors_bytes_are_deterministic() -> None:
    data = {"b": [1, 2], "a": "x"}
    assert edge_vectors.vectors_bytes(data) == edge_vectors.vectors_bytes(
        dict(reversed(data.items()))
    )
