#!/usr/bin/env bash
# One whole GPU run on a machine with JAX but no Keras (the device machine): install the carried
# wheels, train with Keras on JAX from the packs, score the held-out pack, and leave weights,
# history, config and metrics in $OUT/run. Prepare build/gpu/ first with
# `python -m scripts.gpu_bundle`, carry it, and run from the repository root:
#
#   bash scripts/gpu_run.sh --size 256 --base-filters 32 --batch-size 32 --epochs 40
#
# Extra arguments go to `python -m train`. Back on the CPU: `cat unet_float.keras.part-* >
# unet_float.keras` if it was split, then convert and gate as usual.
set -euo pipefail
BUNDLE=${BUNDLE:-build/gpu}
OUT=${OUT:?set OUT to the folder that comes back}
SITE=${SITE:-/tmp/gpu-site}

python3 -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$BUNDLE"/wheels/*.whl
export PYTHONPATH="$SITE:$PWD" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
python3 -c 'import jax; print("devices:", jax.devices())'

RUN="$OUT/run"
python3 -m train --pack "$BUNDLE/pack_train.npz" --holdout-pack "$BUNDLE/pack_holdout.npz" \
    --run "$RUN" --workers 8 "$@" 2>&1 | tee "$OUT/train.log"

# Only what is needed comes back (at most 8 files of 16 MiB): no optimizer checkpoint, no backup.
rm -rf "$RUN/backup" "$RUN/best.keras"
if [ "$(stat -c %s "$RUN/unet_float.keras")" -gt $((15 * 2**20)) ]; then
    split -b 15m "$RUN/unet_float.keras" "$RUN/unet_float.keras.part-"
    rm "$RUN/unet_float.keras"
fi
ls -l "$RUN"
