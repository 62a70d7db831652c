#!/usr/bin/env bash
# One whole GPU call on a machine with JAX but no Keras (the device machine): install the carried
# wheels, then train one or more runs side by side with Keras on JAX from the packs (the GPU's
# memory and the CPU's cores shared out between them), score each on the held-out pack, and leave
# what comes back in $OUT. Prepare build/gpu/ first with `make gpu-bundle`, carry it, and run
# from the repository root, one quoted "NAME train-arguments" per run:
#
#   OUT=/tmp/out bash scripts/gpu_run.sh \
#       "w24 --size 128 --base-filters 24 --init-from models/unet_float.keras --batch-size 32 --lr 1.5e-4 --epochs 300 --patience 1000 --time-budget 360 --ema 0.999" \
#       "w32 --size 128 --base-filters 32 --init-from models/unet_float.keras --batch-size 32 --lr 3e-4 --epochs 300 --patience 1000 --time-budget 360 --ema 0.999"
#
# Each run NAME leaves $OUT/NAME.tar (config, split, history, curves, metrics, log) and
# $OUT/NAME.keras, split into NAME.keras.part-* when over 15 MiB (at most 8 files of 16 MiB come
# back). Back on the CPU: `python -m scripts.gpu_unpack --files FOLDER --name NAME` rebuilds
# runs/NAME; then convert and gate as usual.
set -euo pipefail
BUNDLE=${BUNDLE:-build/gpu}
OUT=${OUT:?set OUT to the folder that comes back}
SITE=${SITE:-/tmp/gpu-site}
RUNS=${RUNS:-/tmp/gpu-runs}
[ $# -ge 1 ] || { echo "usage: gpu_run.sh \"NAME train-arguments\"..." >&2; exit 2; }

python3 -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$BUNDLE"/wheels/*.whl
export PYTHONPATH="$SITE:$PWD" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_MEM_FRACTION=$(python3 -c "print(round(0.9 / $#, 2))")
WORKERS=$(( ($(nproc) - 2) / $# ))
python3 -c 'import jax; print("devices:", jax.devices())'

one_run() {
    local name=$1; shift
    local run="$RUNS/$name"
    mkdir -p "$run"
    python3 -m train --pack "$BUNDLE/pack_train.npz" --holdout-pack "$BUNDLE/pack_holdout.npz" \
        --run "$run" --workers "$WORKERS" "$@" >"$run/train.log" 2>&1 \
        || echo "$name: training failed" | tee -a "$run/train.log"
    rm -rf "$run/backup" "$run/best.keras"  # optimizer state does not come back
    if [ -f "$run/unet_float.keras" ]; then
        if [ "$(stat -c %s "$run/unet_float.keras")" -gt $((15 * 2**20)) ]; then
            split -b 15m "$run/unet_float.keras" "$OUT/$name.keras.part-"
            rm "$run/unet_float.keras"
        else
            mv "$run/unet_float.keras" "$OUT/$name.keras"
        fi
    fi
    tar -cf "$OUT/$name.tar" -C "$RUNS" "$name"
    tail -n 25 "$run/train.log" | sed "s/^/$name: /"
}

for spec in "$@"; do
    # shellcheck disable=SC2086  # each spec is a name and its arguments, split on spaces
    one_run $spec &
done
wait
ls -l "$OUT"
