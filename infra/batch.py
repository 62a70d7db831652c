"""Segment a folder of images (or images already in S3) with the stack's batch function, and
collect every result: one CSV row per image and a folder of masks.

    python -m infra.batch IMAGES_DIR --out OUT [--stack lesion-segmentation | --bucket BUCKET]
    python -m infra.batch --from-prefix incoming/cohort/ --out OUT [--stack ... | --bucket ...]

A folder goes to incoming/<folder name>/ (or --prefix). Resumable: an image already there with
the same size is not uploaded again, a result already in OUT is not downloaded again, so the same
command picks up where an interrupted one stopped. OUT gets results.csv, masks/NAME.mask.png and
json/NAME.json (or NAME.error.json). Exit status 0 when every image has a result, 1 when some
are still pending at --timeout, 2 on an error (credentials, bucket, permissions).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError
from tqdm import tqdm

from infra.deploy import DeployError, explain, stack_outputs
from lesion_api.batch_layout import INCOMING, RESULT_SUFFIXES, result_key, result_stem

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".mpo"}
CSV_FIELDS = (
    "id", "status", "area_fraction", "equivalent_diameter_px", "asymmetry",
    "border_irregularity", "mean_certainty", "predicted_dice", "needs_review", "reasons", "error",
)  # fmt: skip
"""The API's own field names (measurements, confidence, quality), one row per image."""
LOCAL_SUFFIXES = (".json", ".error.json", ".mask.png")
MAX_NAME_BYTES = 255
"""The longest file name most file systems take (bytes)."""


@dataclass(frozen=True)
class Item:
    """One image: its id (path under the prefix) and its S3 key."""

    id: str
    key: str


def batch_bucket(stack: str, cfn: Any = None) -> str:
    bucket = stack_outputs(stack, cfn).get("BatchBucketName")
    if not bucket:
        raise DeployError(f"stack {stack} has no BatchBucketName output: deploy the batch stack")
    return bucket


def check_bucket(bucket: str, s3: Any) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchBucket"):
            raise DeployError(f"bucket {bucket} does not exist") from error
        raise


def unsafe_id(item_id: str) -> str | None:
    """Why an item's id cannot name files under OUT, or None when it can.

    An id is an S3 key minus the prefix, and anyone who may write under incoming/ chooses it: it
    must be a relative path of plain names (no empty, '.' or '..' part, so no leading or double
    slash), with no backslash or control character, and each file name within 255 bytes.
    """
    if not item_id:
        return "an empty name"
    parts = item_id.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "an empty, '.' or '..' path part"
    if any(c == "\\" or unicodedata.category(c) == "Cc" for c in item_id):
        return "a backslash or control character"
    longest = max(len(s) for s in LOCAL_SUFFIXES)
    if any(len(part.encode()) > MAX_NAME_BYTES for part in parts[:-1]) or (
        len(parts[-1].encode()) + longest > MAX_NAME_BYTES
    ):
        return f"a path part over {MAX_NAME_BYTES} bytes"
    return None


def local_images(folder: Path, prefix: str) -> Iterator[tuple[Path, Item]]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            name = path.relative_to(folder).as_posix()
            yield path, Item(name, prefix + name)


def upload(images: list[tuple[Path, Item]], bucket: str, out: Path, s3: Any) -> int:
    """Put the images not already there (same key, same size); return how many were put. An
    image put again (changed) first loses its old results, in S3 and in OUT."""
    put = 0
    for path, item in tqdm(images, desc="upload", unit="image"):
        try:
            if s3.head_object(Bucket=bucket, Key=item.key)["ContentLength"] == path.stat().st_size:
                continue
            forget_results(item, bucket, out, s3)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("404", "NoSuchKey"):
                raise
        s3.upload_file(str(path), bucket, item.key, ExtraArgs={"ServerSideEncryption": "AES256"})
        put += 1
    return put


def forget_results(item: Item, bucket: str, out: Path, s3: Any) -> None:
    """Delete an item's results from S3 and from OUT (its image is about to change)."""
    keys = [{"Key": result_key(item.key, suffix)} for suffix in RESULT_SUFFIXES]
    s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    for local in (out / "json" / (item.id + s) for s in (".json", ".error.json")):
        local.unlink(missing_ok=True)
    (out / "masks" / (item.id + ".mask.png")).unlink(missing_ok=True)


def listed(bucket: str, prefix: str, s3: Any) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from (obj["Key"] for obj in page.get("Contents", []))


def existing_images(bucket: str, prefix: str, s3: Any) -> list[Item]:
    return [
        Item(key.removeprefix(prefix), key)
        for key in listed(bucket, prefix, s3)
        if Path(key).suffix.lower() in IMAGE_SUFFIXES
    ]


def fetch(item: Item, present: set[str], bucket: str, out: Path, s3: Any) -> bool:
    """Download the item's result (JSON and mask, or its error) into OUT once it is `present`
    in S3; whether OUT has it."""
    for suffix in (".json", ".error.json"):
        local = out / "json" / (item.id + suffix)
        if local.exists():
            return True
        if result_key(item.key, suffix) in present:
            local.parent.mkdir(parents=True, exist_ok=True)
            if suffix == ".json":
                mask = out / "masks" / (item.id + ".mask.png")
                mask.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, result_key(item.key, ".mask.png"), str(mask))
            s3.download_file(
                bucket, result_key(item.key, suffix), str(local)
            )  # last: marks it done
            return True
    return False


def collect(
    items: list[Item], bucket: str, out: Path, s3: Any, timeout_s: float, poll_s: float = 5.0
) -> list[Item]:
    """Wait for every item's result, downloading each as it appears; return those still pending."""
    pending = list(items)
    deadline = time.monotonic() + timeout_s
    # One listing prefix for all results: character-wise, as S3 matches prefixes.
    common = os.path.commonprefix([result_stem(i.key) for i in items])  # noqa: RUF071
    with tqdm(total=len(items), desc="results", unit="image") as progress:
        while pending:
            present = set(listed(bucket, common, s3))
            still = [i for i in pending if not fetch(i, present, bucket, out, s3)]
            progress.update(len(pending) - len(still))
            pending = still
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(poll_s)
    return pending


def row(item: Item, out: Path) -> dict[str, object]:
    """The CSV row of one item, from its downloaded result."""
    refused = unsafe_id(item.id)
    if refused:
        return {"id": item.id, "status": "error", "error": f"not downloaded: the key has {refused}"}
    done = out / "json" / (item.id + ".json")
    failed = out / "json" / (item.id + ".error.json")
    if done.exists():
        result = json.loads(done.read_text())
        m = result["measurements"]
        return {
            "id": item.id,
            "status": "ok",
            "area_fraction": m["area_fraction"],
            "equivalent_diameter_px": m["equivalent_diameter_px"],
            "asymmetry": m["asymmetry"],
            "border_irregularity": m["border_irregularity"],
            "mean_certainty": result["confidence"]["mean_certainty"],
            "predicted_dice": result["quality"]["predicted_dice"],
            "needs_review": result["quality"]["needs_review"],
            "reasons": "; ".join(result["quality"]["reasons"]),
            "error": "",
        }
    if failed.exists():
        return {"id": item.id, "status": "error", "error": json.loads(failed.read_text())["error"]}
    return {"id": item.id, "status": "pending", "error": "no result yet"}


def write_csv(items: list[Item], out: Path) -> tuple[Path, int]:
    """Write results.csv; return it and how many of its masks need review."""
    path = out / "results.csv"
    rows = [row(item, out) for item in items]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path, sum(1 for r in rows if r.get("needs_review") is True)


def run(args: argparse.Namespace) -> int:
    s3 = boto3.client("s3")
    bucket = args.bucket or batch_bucket(args.stack)
    check_bucket(bucket, s3)
    if args.from_prefix:
        prefix = args.from_prefix if args.from_prefix.endswith("/") else args.from_prefix + "/"
        if not prefix.startswith(INCOMING):
            raise DeployError(f"--from-prefix must start with {INCOMING} (the function's trigger)")
        items = existing_images(bucket, prefix, s3)
    else:
        if not args.images or not args.images.is_dir():
            raise DeployError(f"{args.images} is not a folder of images")
        prefix = args.prefix or f"{INCOMING}{args.images.resolve().name}/"
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        images = list(local_images(args.images, prefix))
        put = upload(images, bucket, args.out, s3)
        print(f"{put} uploaded, {len(images) - put} already in s3://{bucket}/{prefix}")
        items = [item for _, item in images]
    if not items:
        raise DeployError(
            f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {args.images or prefix}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    safe = []
    for item in items:
        if reason := unsafe_id(item.id):
            print(f"not downloaded: s3://{bucket}/{item.key} has {reason}", file=sys.stderr)
        else:
            safe.append(item)
    pending = collect(safe, bucket, args.out, s3, args.timeout, args.poll) if safe else []
    table, review = write_csv(items, args.out)
    print(f"{len(items) - len(pending)} of {len(items)} results in {table}; {review} need review")
    return 1 if pending else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.batch", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("images", type=Path, nargs="?", help="a folder of JPEG/PNG images")
    parser.add_argument("--out", type=Path, required=True, help="where results.csv and masks go")
    parser.add_argument("--stack", default="lesion-segmentation", help="the SAM stack")
    parser.add_argument("--bucket", help="the batch bucket (default: the stack's BatchBucketName)")
    parser.add_argument("--prefix", help="upload under this prefix (default incoming/<folder>/)")
    parser.add_argument("--from-prefix", help="segment images already under this incoming/ prefix")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for results")
    parser.add_argument("--poll", type=float, default=5.0, help="seconds between checks")
    args = parser.parse_args(argv)
    if bool(args.images) == bool(args.from_prefix):
        parser.error("give a folder of images or --from-prefix, not both")
    if args.prefix and not args.prefix.startswith(INCOMING):
        parser.error(f"--prefix must start with {INCOMING}")
    try:
        return run(args)
    except (DeployError, NoCredentialsError, NoRegionError, ClientError) as error:
        print(f"error: {explain(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
