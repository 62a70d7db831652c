"""Streamlit UI for the skin-lesion segmentation API (any URL: API Gateway or local)."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import streamlit as st
from PIL import Image, ImageOps

from lesion_api.schemas import DEFAULT_MAX_UPLOAD_BYTES
from lesion_ui import api_client, render

SAMPLES = Path(__file__).parent / "samples"
DEFAULT_API_URL = os.environ.get("API_URL", "http://127.0.0.1:8000")
TIMEOUT_S = float(os.environ.get("API_TIMEOUT_S", "30"))
EDGE_URL = os.environ.get("EDGE_URL", "")  # the on-device app (devtools/edge_server.py), if any

st.set_page_config(page_title="Skin-lesion segmentation", layout="wide")
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
    f"Dermoscopy images (JPEG or PNG, at most {render.size(max_upload_bytes)} each)",
    type=["jpg", "jpeg", "png"],
    accept_multiple_files=True,
    key="uploads",
    max_upload_size=math.ceil(max_upload_bytes / 1e6),
)
sample = st.selectbox(
    "…or try a real ISIC 2018 sample", sorted(p.name for p in SAMPLES.glob("*")), key="sample"
)
use_sample = st.button("Segment the sample", key="try_sample")

items = [(f.name, f.getvalue(), f.type or "image/jpeg") for f in uploads or []]
if use_sample and sample:
    items.append((sample, (SAMPLES / sample).read_bytes(), "image/jpeg"))

for name, data, mime in items:
    st.subheader(name)
    try:
        result = api_client.segment(
            api_url, name, data, mime, spacing or None, max_upload_bytes, TIMEOUT_S
        )
    except api_client.ApiError as error:
        st.error(f"{name}: {error}")
        continue
    quality = result.body.quality
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
        columns[3].image(result.probability, caption="probability (confidence)", width="stretch")
    body = result.body
    st.table(render.measurement_rows(body.measurements, body.confidence))
    timings = body.timings_ms
    st.caption(
        f"latency: {result.round_trip_ms:.0f} ms round trip, "
        f"{timings.total_ms:.0f} ms in the API "
        f"({timings.inference_ms:.0f} ms inference)"
    )
    stem = Path(name).stem
    downloads = st.columns(3)
    downloads[0].download_button(
        "mask PNG", render.png(result.mask), f"{stem}_mask.png", "image/png", key=f"mask-{name}"
    )
    downloads[1].download_button(
        "overlay PNG",
        render.png(outlined),
        f"{stem}_overlay.png",
        "image/png",
        key=f"overlay-{name}",
    )
    downloads[2].download_button(
        "JSON report",
        render.report(name, body, result.round_trip_ms),
        f"{stem}_report.json",
        "application/json",
        key=f"json-{name}",
    )
