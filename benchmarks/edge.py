"""The on-device app in headless chromium against the API, on the same real held-out images in
one run: per image end to end (plain and threaded LiteRT.js builds), the API's p50 for the same
files, the time to the first result after opening the page, the site's transfer size, and how
well the browser's masks agree with the API's.

    python -m benchmarks.edge [--data ../shared/data] [--images 50] [--json benchmarks/edge.json]
    python -m benchmarks.edge --table     # the committed figures as a Markdown table

Needs build/edge (make edge), Debian's chromium and the dataset's held-out full-field images
(models/split.json). Goals on 2 cores: threaded <= 150 ms an image end to end, first result
<= 3 s after opening the page from a local server, mask agreement mean >= 0.998, worst >= 0.99.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import io
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image

from benchmarks.load import post, server
from benchmarks.process import ROOT, Figures
from devtools.edge_server import SITE
from devtools.stack import edge_command, free_port, running

JSON = ROOT / "benchmarks" / "edge.json"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"]
GOALS = {
    "threaded_p50_ms": 150.0,
    "first_result_s": 3.0,
    "agreement_mean_dice": 0.998,
    "agreement_worst_dice": 0.99,
}
CAMERA_SIZE = (1022, 767)
DOWNLOADS_PER_PAGE = 7  # chromium stops a page's downloads after ten


def held_out_images(data: Path, count: int) -> list[Path]:
    """The first `count` held-out ids (models/split.json) as full-field JPEGs."""
    split = json.loads((ROOT / "models" / "split.json").read_text())
    folder = data / "isic2018_fullview" / "ISIC2018_Task1-2_Training_Input"
    return [folder / f"{image_id}.jpg" for image_id in sorted(split["holdout"])[:count]]


@contextmanager
def edge_site() -> Iterator[str]:
    port = free_port()
    command, env = edge_command(port, SITE)
    with running(command, env, f"http://127.0.0.1:{port}/"):
        yield f"http://127.0.0.1:{port}/"


def open_page(context: Any, url: str) -> Any:
    page = context.new_page()
    page.goto(url)
    page.evaluate("() => lesionEdge.ready.then(() => true)")
    return page


def segment_one(page: Any, path: Path) -> tuple[dict[str, Any], float]:
    """One image picked and segmented: its report and the wall time to its finished card."""
    before = page.evaluate("() => lesionEdge.results.length")
    start = time.perf_counter()
    page.set_input_files("#files", str(path))
    page.wait_for_function(f"() => lesionEdge.results.length > {before}", polling="raf")
    wall_ms = (time.perf_counter() - start) * 1000
    report: dict[str, Any] = page.evaluate(f"() => lesionEdge.results[{before}]")
    if "error" in report:
        raise RuntimeError(f"{path.name}: {report['error']}")
    return report, wall_ms


def per_image(browser: Any, url: str, images: list[Path]) -> Figures:
    """p50/p95 of the app's own timing (decode to measurements) and of the wall time to the
    finished card (also drawing the pictures and encoding the PNGs), one image at a time."""
    context = browser.new_context()
    page = open_page(context, url)
    segment_one(page, images[0])  # warm-up
    reports, walls = zip(*(segment_one(page, path) for path in images), strict=True)
    build = page.evaluate("() => lesionEdge.results[0].runtime.build")
    context.close()
    totals = [r["timings_ms"]["total_ms"] for r in reports]
    return {
        "build": build,
        "pipeline_p50_ms": round(statistics.median(totals), 1),
        "pipeline_p95_ms": round(float(np.percentile(totals, 95)), 1),
        "end_to_end_p50_ms": round(statistics.median(walls), 1),
        "end_to_end_p95_ms": round(float(np.percentile(walls, 95)), 1),
    }


def first_result(browser: Any, url: str, image: Path) -> Figures:
    """Seconds from opening the page (nothing cached) to the first image's result, and the bytes
    of the files fetched to get there (each file once)."""
    context = browser.new_context()
    sizes: dict[str, int] = {}  # by URL: the service worker fetches what the page had again

    def finished(request: Any) -> None:
        if not request.url.startswith("blob:"):
            sizes[request.url] = max(sizes.get(request.url, 0), request.sizes()["responseBodySize"])

    context.on("requestfinished", finished)
    start = time.perf_counter()
    page = open_page(context, url)
    ready_s = time.perf_counter() - start
    segment_one(page, image)
    figures = {
        "ready_s": round(ready_s, 2),
        "first_result_s": round(time.perf_counter() - start, 2),
        "transfer_bytes": sum(sizes.values()),
        "requests": len(sizes),
    }
    context.close()
    return figures


def downloaded_masks(browser: Any, url: str, images: list[Path]) -> dict[str, np.ndarray]:
    """Each image's mask PNG as the page offers it (downloaded), threaded build."""
    context = browser.new_context(accept_downloads=True)
    masks = {}
    for start in range(0, len(images), DOWNLOADS_PER_PAGE):
        page = open_page(context, url)
        for card, path in enumerate(images[start : start + DOWNLOADS_PER_PAGE]):
            segment_one(page, path)
            link = page.locator("article.result").nth(card).get_by_role("link", name="mask PNG")
            with page.expect_download() as download:
                link.click()
            with Image.open(download.value.path()) as png:
                masks[path.name] = np.asarray(png.convert("L")) > 128
        page.close()
    context.close()
    return masks


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum() + b.sum())
    return 1.0 if total == 0 else 2 * int((a & b).sum()) / total


def api_figures(url: str, images: list[Path]) -> tuple[Figures, dict[str, np.ndarray]]:
    """The API's p50 round trip for the same files (mask PNG answers), and those masks."""
    times, masks = [], {}
    with httpx.Client(timeout=60) as client:
        post(client, url, images[0].read_bytes()).raise_for_status()  # warm-up
        for path in images:
            data = path.read_bytes()
            start = time.perf_counter()
            response = post(client, url, data)
            times.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
            with Image.open(io.BytesIO(response.content)) as png:
                masks[path.name] = np.asarray(png.convert("L")) > 128
    return {"p50_ms": round(statistics.median(times), 1)}, masks


def resized(images: list[Path], folder: Path, size: tuple[int, int]) -> list[Path]:
    """The same images at one camera-like size (JPEG, quality 90): most stored full-field
    images are 256x192, and the goal is for a 1022x767 upload."""
    out = []
    for path in images:
        target = folder / path.name
        with Image.open(path) as image:
            image.convert("RGB").resize(size, Image.Resampling.BICUBIC).save(target, quality=90)
        out.append(target)
    return out


def one_set(browser: Any, url: str, api_url: str, images: list[Path]) -> Figures:
    """Both builds, the API and the agreement of the masks, on one set of images."""
    api, api_masks = api_figures(api_url, images)
    builds = {
        "threaded": per_image(browser, url, images),
        "plain": per_image(browser, f"{url}?threads=0", images),
    }
    masks = downloaded_masks(browser, url, images)
    agreement = [dice(masks[name], api_masks[name]) for name in sorted(masks)]
    exact = [float(np.mean(masks[n] == api_masks[n])) for n in sorted(masks)]
    sizes = collections.Counter(f"{w}x{h}" for w, h in (Image.open(p).size for p in images))
    return {
        "images": len(images),
        "sizes": dict(sizes.most_common()),
        "api": api,
        "builds": builds,
        "agreement": {
            "mean_dice": round(statistics.fmean(agreement), 5),
            "worst_dice": round(min(agreement), 5),
            "mean_exact_pixels": round(statistics.fmean(exact), 5),
            "identical_masks": sum(d == 1.0 for d in agreement),
        },
    }


def measure(data: Path, count: int, scratch: Path) -> Figures:
    from playwright.sync_api import sync_playwright

    images = held_out_images(data, count)
    camera = resized(images, scratch, CAMERA_SIZE)
    with server(None, None) as (api_url, _), edge_site() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        opening = first_result(browser, url, camera[0])
        sets = {
            "held_out_as_stored": one_set(browser, url, api_url, images),
            "held_out_at_1022x767": one_set(browser, url, api_url, camera),
        }
        browser.close()
    return {
        "measured": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "browser": "Debian chromium, headless",
        "opening": opening,
        "sets": sets,
        "goals": GOALS,
    }


def table(figures: Figures) -> str:
    """The figures as Markdown, for the docs."""
    o, g = figures["opening"], figures["goals"]
    rows = [
        "| images | build | decode to measurements, p50 | to the finished card, p50 / p95 "
        "| API round trip, p50 | masks vs the API's: mean / worst Dice | identical masks |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in figures["sets"].items():
        a = s["agreement"]
        for build, b in s["builds"].items():
            rows.append(
                f"| {name.replace('_', ' ')} ({s['images']}) | {build} | {b['pipeline_p50_ms']} ms "
                f"| {b['end_to_end_p50_ms']} / {b['end_to_end_p95_ms']} ms "
                f"| {s['api']['p50_ms']} ms | {a['mean_dice']} / {a['worst_dice']} "
                f"| {a['identical_masks']} of {s['images']} |"
            )
    where = f"{figures['machine']}, {figures['browser']}, {figures['measured']}"
    return (
        "\n".join(rows)
        + f"\n\nFirst result {o['first_result_s']} s after opening the page (nothing cached; "
        f"goal <= {g['first_result_s']:g} s), after {o['transfer_bytes'] / 1e6:.1f} MB in "
        f"{o['requests']} requests. Goals: threaded <= {g['threaded_p50_ms']:g} ms a 1022x767 "
        f"image end to end, agreement mean >= {g['agreement_mean_dice']}, worst >= "
        f"{g['agreement_worst_dice']}. Measured by `python -m benchmarks.edge` ({where}).\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.edge", description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--table", action="store_true", help="print the committed figures")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(JSON.read_text())), end="")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        figures = measure(args.data, args.images, Path(scratch))
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
