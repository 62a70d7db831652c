"""`python -m infra.batch` end to end against moto S3, with the real batch function answering
each new object as S3's notification would make it: upload, progress, results.csv and masks,
resuming, an existing prefix, a timeout, and clear errors."""

from __future__ import annotations

import csv
import json
import threading
from pathlib import Path

import pytest

from api_support import BATCH_BUCKET, TINY_TFLITE
from devtools.events import s3_put
from infra import batch as client
from lesion_api.batch import create_batch
from lesion_api.settings import Settings

ROOT = Path(__file__).parent.parent
SAMPLES = sorted((ROOT / "ui" / "samples").glob("*.jpg"))


class S3Notifications(threading.Thread):
    """Stands in for S3 -> SQS -> Lambda: each new object under incoming/ goes, as the S3 event
    it makes, to the real batch function."""

    def __init__(self, s3) -> None:
        super().__init__(daemon=True)
        self.s3 = s3
        self.batch = create_batch(Settings(model_path=TINY_TFLITE), s3=s3)
        self.stopped = threading.Event()
        self.seen: dict[str, str] = {}

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            listing = self.s3.list_objects_v2(Bucket=BATCH_BUCKET, Prefix="incoming/")
            for obj in listing.get("Contents", []):
                if self.seen.get(obj["Key"]) != obj["ETag"]:
                    self.seen[obj["Key"]] = obj["ETag"]
                    self.batch.handle(s3_put(BATCH_BUCKET, obj["Key"], obj["Size"], obj["ETag"]))


@pytest.fixture
def function(batch_s3):
    notifications = S3Notifications(batch_s3)
    notifications.start()
    yield notifications
    notifications.stopped.set()
    notifications.join()


@pytest.fixture
def cohort(tmp_path) -> Path:
    folder = tmp_path / "cohort"
    (folder / "visit 2").mkdir(parents=True)
    for sample in SAMPLES[:2]:
        (folder / sample.name).write_bytes(sample.read_bytes())
    (folder / "visit 2" / "broken.jpg").write_bytes(SAMPLES[2].read_bytes()[:1500])
    (folder / "notes.txt").write_text("not an image: not uploaded")
    return folder


def table(out: Path) -> dict[str, dict[str, str]]:
    with (out / "results.csv").open() as f:
        return {row["id"]: row for row in csv.DictReader(f)}


def batch(*args: str) -> int:
    return client.main([*args, "--bucket", BATCH_BUCKET, "--poll", "0.05", "--timeout", "60"])


def test_a_folder_comes_back_as_a_table_and_masks(function, cohort, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert batch(str(cohort), "--out", str(out)) == 0
    rows = table(out)
    assert set(rows) == {SAMPLES[0].name, SAMPLES[1].name, "visit 2/broken.jpg"}
    assert list(next(iter(rows.values()))) == list(client.CSV_FIELDS)
    for sample in SAMPLES[:2]:
        row = rows[sample.name]
        assert row["status"] == "ok" and row["error"] == ""
        result = json.loads((out / "json" / f"{sample.name}.json").read_text())
        for name in ("area_fraction", "equivalent_diameter_px", "asymmetry", "border_irregularity"):
            assert float(row[name]) == result["measurements"][name]
        assert float(row["mean_certainty"]) == result["confidence"]["mean_certainty"]
        quality = result["quality"]
        assert float(row["predicted_dice"]) == quality["predicted_dice"]
        assert row["needs_review"] == str(quality["needs_review"])
        assert row["reasons"] == "; ".join(quality["reasons"])
        assert (out / "masks" / f"{sample.name}.mask.png").read_bytes().startswith(b"\x89PNG")
    broken = rows["visit 2/broken.jpg"]
    assert broken["status"] == "error" and broken["error"] and not broken["area_fraction"]
    keys = {o["Key"] for o in function.s3.list_objects_v2(Bucket=BATCH_BUCKET)["Contents"]}
    assert "incoming/cohort/notes.txt" not in keys
    printed = capsys.readouterr().out
    assert "3 uploaded, 0 already" in printed
    flagged = sum(row["needs_review"] == "True" for row in rows.values())
    assert f"3 of 3 results in {out / 'results.csv'}; {flagged} need review" in printed

    # Resuming: nothing is uploaded or downloaded again, the table is the same.
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.json")}
    assert batch(str(cohort), "--out", str(out)) == 0
    assert "0 uploaded, 3 already" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.json")} == before
    assert table(out) == rows


def test_images_already_in_s3(function, tmp_path) -> None:
    for sample in SAMPLES:
        function.s3.put_object(
            Bucket=BATCH_BUCKET, Key=f"incoming/archive/{sample.name}", Body=sample.read_bytes()
        )
    out = tmp_path / "out"
    assert batch("--from-prefix", "incoming/archive", "--out", str(out)) == 0
    assert {r["status"] for r in table(out).values()} == {"ok"} and len(table(out)) == 3


TRAVERSING = {
    "../escape/x.jpg": "'..'",
    "/abs/dir/y.jpg": "empty",
    "./here/z.jpg": "'.'",
    "a/../../w.jpg": "'..'",
    "..\\..\\win.jpg": "backslash",
    "bell\x07.jpg": "control character",
    "n" * 250 + ".jpg": "over 255 bytes",
}


def test_keys_that_would_leave_the_out_folder_are_not_downloaded(
    function, tmp_path, capsys
) -> None:
    safe = ["plain.jpg", "visit 2/ünïcodé ✓.jpg", "dots..in..name.jpg"]
    for name in [*TRAVERSING, *safe]:
        function.s3.put_object(
            Bucket=BATCH_BUCKET,
            Key=f"incoming/cohort/{name}",
            Body=SAMPLES[0].read_bytes(),
        )
    work = tmp_path / "work"
    out = work / "out"
    assert batch("--from-prefix", "incoming/cohort", "--out", str(out)) == 0
    rows = table(out)
    assert set(rows) == {*TRAVERSING, *safe}
    for name, reason in TRAVERSING.items():
        assert rows[name]["status"] == "error" and reason in rows[name]["error"], name
    assert {rows[name]["status"] for name in safe} == {"ok"}
    written = {p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()}
    expected = {f"out/json/{n}.json" for n in safe} | {f"out/masks/{n}.mask.png" for n in safe}
    assert written == expected | {"out/results.csv"}, "nothing outside OUT, nothing refused"
    assert not any(p for p in tmp_path.iterdir() if p.name != "work"), "nothing beside OUT"
    assert capsys.readouterr().err.count("not downloaded") == len(TRAVERSING)


def test_results_that_do_not_come_are_pending(batch_s3, cohort, tmp_path) -> None:
    out = tmp_path / "out"
    code = client.main(
        [
            str(cohort),
            "--out",
            str(out),
            "--bucket",
            BATCH_BUCKET,
            "--timeout",
            "0.2",
            "--poll",
            "0.05",
        ]
    )
    assert code == 1
    assert {r["status"] for r in table(out).values()} == {"pending"}


def test_a_missing_bucket_or_stack_is_a_clear_error(batch_s3, cohort, tmp_path, capsys) -> None:
    out = str(tmp_path / "out")
    assert client.main([str(cohort), "--out", out, "--bucket", "no-such-bucket"]) == 2
    assert "bucket no-such-bucket does not exist" in capsys.readouterr().err
    assert client.main([str(cohort), "--out", out, "--stack", "no-such-stack"]) == 2
    assert "stack no-such-stack not found" in capsys.readouterr().err


def test_missing_credentials_are_a_clear_error(no_aws_credentials, cohort, tmp_path, capsys):
    assert client.main([str(cohort), "--out", str(tmp_path / "out"), "--bucket", BATCH_BUCKET]) == 2
    err = capsys.readouterr().err
    assert "no AWS credentials found" in err and "Traceback" not in err


def test_a_changed_image_gets_a_new_result(function, cohort, tmp_path) -> None:
    out = tmp_path / "out"
    assert batch(str(cohort), "--out", str(out)) == 0
    assert table(out)["visit 2/broken.jpg"]["status"] == "error"
    # The broken file is replaced by a real image: its old error must not come back.
    (cohort / "visit 2" / "broken.jpg").write_bytes(SAMPLES[2].read_bytes())
    assert batch(str(cohort), "--out", str(out)) == 0
    assert table(out)["visit 2/broken.jpg"]["status"] == "ok"
    assert not (out / "json" / "visit 2" / "broken.jpg.error.json").exists()
