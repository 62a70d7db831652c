"""Streamlit UI for the skin-lesion segmentation API (any URL: API Gateway or local)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import streamlit as st
from PIL import Image, ImageOps

from lesion_api.schemas import DEFAULT_MAX_UPLOAD_BYTES
from lesion_ui import api_client, render, upload

SAMPLES = Path(__file__).parent / "samples"
DEFAULT_API_URL = os.environ.get("API_URL", "http://127.0.0.1:8000")
TIMEOUT_S = float(os.environ.get("API_TIMEOUT_S", "30"))
EDGE_URL = os.environ.get("EDGE_URL", "")  # the on-device app (devtools/edge_server.py), if any

st.set_page_config(page_title="Skin-lesion segmentation", layout="wide")
SERVER_LIMIT_MB: int = st.get_option("server.maxUploadSize")  # ui/.streamlit/config.toml
upload.keep_in_memory(SERVER_LIMIT_MB)
st.title("Skin-lesion segmentation")
st.warning("**Research use only — not a medical device.** Do not use for diagnosis.")
if EDGE_URL:
    st.markdown(f"[Segment on this device instead]({EDGE_URL})")
    st.caption("The model then runs in your browser: the images never leave your device.")

with st.sidebar:
    api_url = st.text_input("API URL", DEFAULT_API_URL, key="api_url")
    spacing = st.number_input(
        "Pixel spacing (mm per pixel, 0 = unknown)",
        0.0,
        10.0,
        0.0,
        step=0.01,
        format="%.3f",
        key="spacing",
    )
    max_upload_bytes = DEFAULT_MAX_UPLOAD_BYTES  # until /health says otherwise
    try:
        info = api_client.health(api_url)
        max_upload_bytes = info.limits.max_upload_bytes
        if info.model and info.runtime:
            model = info.model
            st.success(
                f"Connected: {model.name} ({model.flavour}, {model.input_size} px)"
                f" on {info.runtime.name} {info.runtime.version}"
            )
            st.caption(f"model sha256 {model.sha256[:16]}…")
        else:
            st.error(f"The API has no model: {info.error}")
    except api_client.ApiError as error:
        st.error(f"API not available: {error}")

uploads = st.file_uploader(
    "Dermoscopy images (JPEG or PNG)",
    type=["jpg", "jpeg", "png"],
    accept_multiple_files=True,
    key="uploads",
    max_upload_size=upload.uploader_limit_mb(max_upload_bytes, SERVER_LIMIT_MB),
)
sample = st.selectbox(
    "…or try a real ISIC 2018 sample", sorted(p.name for p in SAMPLES.glob("*")), key="sample"
)
use_sample = st.button("Segment the sample", key="try_sample")

items = [(f.name, f.getvalue(), f.type or "image/jpeg") for f in uploads or []]
if use_sample and sample:
    items.append((sample, (SAMPLES / sample).read_bytes(), "image/jpeg"))

# Several images: one table of them all first, with the CSV and a ZIP of every image's files.
summary = st.container() if len(items) > 1 else None
rows: list[render.SummaryRow] = []
archive: dict[str, bytes] = {}
stems = render.unique_stems(name for name, _, _ in items)
for (name, data, mime), stem in zip(items, stems, strict=True):
    st.subheader(name)
    try:
        result = api_client.segment(
            api_url, name, data, mime, spacing or None, max_upload_bytes, TIMEOUT_S
        )
    except api_client.ApiError as error:
        st.error(f"{name}: {error}")
        rows.append(render.failed_row(name, str(error)))
        continue
    body = result.body
    quality = body.quality
    if quality.needs_review:
        st.warning(render.quality_badge(quality), icon=":material/warning:")
    else:
        st.success(render.quality_badge(quality), icon=":material/check_circle:")
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    outlined = render.overlay(image, result.mask)
    columns = st.columns(4)
    columns[0].image(image, caption="original", width="stretch")
    columns[1].image(outlined, caption="lesion outline", width="stretch")
    columns[2].image(result.mask, caption="mask", width="stretch")
    if result.probability is not None:
        probability = render.colour_map(result.probability)
        columns[3].image(probability, caption="probability map", width="stretch")
        columns[3].html(render.legend())
    st.table(render.measurement_rows(body.measurements, body.confidence))
    timings = body.timings_ms
    st.caption(
        f"latency: {result.round_trip_ms:.0f} ms round trip, "
        f"{timings.total_ms:.0f} ms in the API "
        f"({timings.inference_ms:.0f} ms inference)"
    )
    files = {
        f"{stem}_mask.png": render.png(result.mask),
        f"{stem}_overlay.png": render.png(outlined),
        f"{stem}_report.json": render.report(name, body, result.round_trip_ms),
    }
    downloads = st.container(horizontal=True)
    labels = ("mask PNG", "overlay PNG", "JSON report")
    for label, (file_name, content) in zip(labels, files.items(), strict=True):
        mime_type = "application/json" if file_name.endswith(".json") else "image/png"
        # "ignore": a download does not rerun the page, which would segment every image again.
        downloads.download_button(label, content, file_name, mime_type, on_click="ignore")
    rows.append(render.summary_row(name, body))
    archive.update(files)

if summary is not None:
    with summary:
        st.subheader(f"Summary of {len(items)} images")
        st.dataframe(
            rows,
            hide_index=True,
            column_config={
                "area_fraction": st.column_config.NumberColumn(format="%.3f"),
                "predicted_dice": st.column_config.NumberColumn(format="%.2f"),
            },
        )
        downloads = st.container(horizontal=True)
        downloads.download_button(
            "summary CSV", render.csv_table(rows), "summary.csv", "text/csv", on_click="ignore"
        )
        downloads.download_button(
            "ZIP of every mask, overlay and report",
            render.zip_archive(archive),
            "segmentations.zip",
            "application/zip",
            on_click="ignore",
            disabled=not archive,
        )
