"""The batch function (lesion_api.batch) on S3 put events (the shape that
`sam local generate-event s3 put` writes, alone or in SQS batches) against moto S3: good images,
corrupt, huge and unsupported objects, re-runs, keys outside incoming/, and failures that SQS
must retry."""

from __future__ import annotations

import io
import json

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api_support import BATCH_BUCKET, SAMPLE_JPEG, TINY_TFLITE, encode, png_bomb, sample_image
from devtools.events import s3_put, sqs_batch
from lesion_api.batch import create_batch
from lesion_api.batch_layout import result_key
from lesion_api.main import create_app
from lesion_api.settings import Settings


@pytest.fixture
def batch(batch_s3):
    return create_batch(Settings(model_path=TINY_TFLITE), s3=batch_s3)


def put(batch_s3, key: str, data: bytes) -> dict:
    """Put an object and return the notification S3 would send for it."""
    etag = batch_s3.put_object(Bucket=BATCH_BUCKET, Key=key, Body=data)["ETag"]
    return s3_put(BATCH_BUCKET, key, len(data), etag.strip('"'))


def read(batch_s3, key: str) -> bytes:
    return batch_s3.get_object(Bucket=BATCH_BUCKET, Key=key)["Body"].read()


def keys(batch_s3) -> set[str]:
    return {o["Key"] for o in batch_s3.list_objects_v2(Bucket=BATCH_BUCKET).get("Contents", [])}


def test_an_image_gets_its_mask_and_the_apis_measurements(batch_s3, batch) -> None:
    data = SAMPLE_JPEG.read_bytes()
    answer = batch.handle(put(batch_s3, "incoming/cohort/ISIC_0000012.jpg", data))
    result = json.loads(read(batch_s3, "results/cohort/ISIC_0000012.jpg.json"))
    review = int(result["quality"]["needs_review"])
    assert answer == {"processed": 1, "errors": 0, "needs_review": review}
    mask = read(batch_s3, "results/cohort/ISIC_0000012.jpg.mask.png")
    with TestClient(create_app(Settings(model_path=TINY_TFLITE))) as client:
        api = client.post("/v1/segment", files={"file": ("a.jpg", data, "image/jpeg")}).json()
        api_mask = client.post(
            "/v1/segment",
            files={"file": ("a.jpg", data, "image/jpeg")},
            headers={"accept": "image/png"},
        ).content
    assert mask == api_mask
    for field in ("model", "image", "measurements", "confidence"):
        assert result[field] == api[field], field
    assert set(result["timings_ms"]) == set(api["timings_ms"])
    assert result["source"]["key"] == "incoming/cohort/ISIC_0000012.jpg"
    assert result["source"]["bytes"] == len(data) and result["source"]["etag"]
    assert result["mask_key"] == "results/cohort/ISIC_0000012.jpg.mask.png"
    assert "mask_png_base64" not in result
    with Image.open(SAMPLE_JPEG) as image:
        assert Image.open(io.BytesIO(mask)).size == image.size


@pytest.mark.parametrize(
    ("name", "data", "status", "reason"),
    [
        ("corrupt.jpg", SAMPLE_JPEG.read_bytes()[:2000], 422, ""),
        ("notes.txt", b"not an image at all", 415, ""),
        ("scan.gif", encode(sample_image(), "GIF"), 415, "JPEG or PNG"),
        ("bomb.png", png_bomb(20_000, 20_000), 413, "pixels"),
        ("empty.jpg", b"", 400, ""),
    ],
)
def test_a_bad_object_gets_an_error_result_not_a_retry(batch_s3, batch, name, data, status, reason):
    event = put(batch_s3, f"incoming/{name}", data)
    assert batch.handle(event) == {"processed": 1, "errors": 1, "needs_review": 0}
    error = json.loads(read(batch_s3, f"results/{name}.error.json"))
    assert error["status"] == status and reason in error["error"]
    assert error["source"]["key"] == f"incoming/{name}"
    assert keys(batch_s3) == {f"incoming/{name}", f"results/{name}.error.json"}, "no mask, no JSON"


def test_an_object_over_the_size_limit_is_not_read(batch_s3) -> None:
    batch = create_batch(
        Settings(model_path=TINY_TFLITE, batch_max_object_bytes=10_000), s3=batch_s3
    )
    data = SAMPLE_JPEG.read_bytes()
    assert len(data) > 10_000
    batch.handle(put(batch_s3, "incoming/big.jpg", data))
    error = json.loads(read(batch_s3, "results/big.jpg.error.json"))
    assert error["status"] == 413 and "limit is 10000" in error["error"]


def test_running_a_key_again_gives_the_same_results(batch_s3, batch) -> None:
    event = put(batch_s3, "incoming/a.jpg", SAMPLE_JPEG.read_bytes())
    batch.handle(event)
    first = {k: read(batch_s3, k) for k in keys(batch_s3)}
    batch.handle(event)
    again = {k: read(batch_s3, k) for k in keys(batch_s3)}
    assert first.keys() == again.keys()
    assert first["results/a.jpg.mask.png"] == again["results/a.jpg.mask.png"]
    one, two = (json.loads(d["results/a.jpg.json"]) for d in (first, again))
    one.pop("timings_ms"), two.pop("timings_ms")
    assert one == two


def test_keys_outside_incoming_are_left_alone(batch_s3, batch) -> None:
    event = put(batch_s3, "results/a.jpg.mask.png", SAMPLE_JPEG.read_bytes())
    assert batch.handle(event) == {"processed": 1, "errors": 0, "needs_review": 0}
    assert keys(batch_s3) == {"results/a.jpg.mask.png"}


def test_keys_arrive_url_encoded(batch_s3, batch) -> None:
    key = "incoming/visit 2/lesion+1 (left).jpg"
    batch.handle(put(batch_s3, key, SAMPLE_JPEG.read_bytes()))
    assert result_key(key, ".json") in keys(batch_s3)


def test_an_sqs_batch_reports_only_the_messages_to_retry(batch_s3, batch) -> None:
    good = put(batch_s3, "incoming/good.jpg", SAMPLE_JPEG.read_bytes())
    bad = put(batch_s3, "incoming/bad.jpg", b"garbage")
    vanished = s3_put(BATCH_BUCKET, "incoming/deleted-before-processing.jpg", 100)
    elsewhere = s3_put("no-such-bucket", "incoming/x.jpg", 100)
    s3_test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BATCH_BUCKET}
    event = sqs_batch(good, bad, vanished, elsewhere, s3_test_event, "not json")
    answer = batch.handle(event)
    retried = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    ids = [r["messageId"] for r in event["Records"]]
    assert retried == {ids[3], ids[5]}, "S3 errors and unreadable messages are retried"
    assert {
        "results/good.jpg.json",
        "results/good.jpg.mask.png",
        "results/bad.jpg.error.json",
    } <= keys(batch_s3)
    gone = json.loads(read(batch_s3, "results/deleted-before-processing.jpg.error.json"))
    assert gone["status"] == 404 and "deleted" in gone["error"], "an answer, not a retry"


def test_a_message_without_an_id_does_not_fail_the_others(batch_s3, batch) -> None:
    good = put(batch_s3, "incoming/good.jpg", SAMPLE_JPEG.read_bytes())
    event = sqs_batch("not json", good)
    del event["Records"][0]["messageId"]
    assert batch.handle(event) == {"batchItemFailures": []}
    assert "results/good.jpg.json" in keys(batch_s3)


def test_the_objects_own_length_decides_not_the_events(batch_s3) -> None:
    batch = create_batch(
        Settings(model_path=TINY_TFLITE, batch_max_object_bytes=10_000), s3=batch_s3
    )
    event = put(batch_s3, "incoming/grew.jpg", SAMPLE_JPEG.read_bytes())
    event["Records"][0]["s3"]["object"]["size"] = 100  # a stale or forged size
    assert batch.handle(event) == {"processed": 1, "errors": 1, "needs_review": 0}
    error = json.loads(read(batch_s3, "results/grew.jpg.error.json"))
    assert error["status"] == 413 and "limit is 10000" in error["error"]


@pytest.mark.parametrize("data", [SAMPLE_JPEG.read_bytes(), b"garbage"], ids=["image", "corrupt"])
def test_a_key_too_long_for_its_result_gets_a_short_hashed_one(batch_s3, batch, data) -> None:
    folder = "incoming/cohort/" + "é" * 400 + "/"  # 800 bytes of UTF-8
    key = folder + "x" * (1024 - len(folder.encode()) - 4) + ".jpg"
    assert len(key.encode()) == 1024 and len(("results/" + key[9:] + ".json").encode()) > 1024
    batch.handle(put(batch_s3, key, data))
    results = keys(batch_s3) - {key}
    suffixes = {".json", ".mask.png"} if data[:2] == b"\xff\xd8" else {".error.json"}
    assert results == {result_key(key, suffix) for suffix in suffixes}
    for result in results:
        assert len(result.encode()) <= 1024 and result.startswith("results/cohort/é")
        assert "~" in result


def test_events_are_the_ones_sam_generates() -> None:
    event = s3_put(BATCH_BUCKET, "incoming/x y.jpg", 5)
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "incoming/x+y.jpg"
    (message,) = sqs_batch(event)["Records"]
    assert message["eventSource"] == "aws:sqs" and json.loads(message["body"]) == event


def test_result_stems_keep_short_keys_and_shorten_long_ones_apart() -> None:
    from lesion_api.batch_layout import MAX_KEY_BYTES, result_stem

    assert result_stem("incoming/a/b.jpg") == "results/a/b.jpg"
    long_a = "incoming/" + "a" * 1000 + "1.jpg"
    long_b = "incoming/" + "a" * 1000 + "2.jpg"
    stems = {result_stem(long_a), result_stem(long_b)}
    assert len(stems) == 2, "keys that share their first 1,000 bytes stay apart"
    assert all(len((s + ".error.json").encode()) <= MAX_KEY_BYTES for s in stems)
    assert result_stem(long_a) == result_stem(long_a)
