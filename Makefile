# One way to set up and run everything. Needs Python 3.11 (python3.11 or python3 on PATH).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# tflite-runtime 2.14 needs numpy<2: its own small environment, to check the model loads there.
TFLITE_VENV := .venv-tflite-runtime
# aws-sam-cli (sam validate/deploy, cfn-lint, the Lambda Runtime Interface Emulator).
SAM_VENV := .venv-sam
# checkov (tests/test_checkov.py, .checkov.yaml): its pins clash with both of the above.
CHECKOV_VENV := .venv-checkov
# Python 3.12, the images' Python: the serving code's fast tests run there too (make test).
PYTHON312 ?= $(shell ls -d $$HOME/.pyenv/versions/3.12.*/bin/python3.12 2>/dev/null | tail -1 || command -v python3.12)
PY312_VENV := .venv-py312
SERVING_TESTS := tests/test_api.py tests/test_api_schema.py tests/test_handler.py \
	tests/test_batch.py tests/test_batch_client.py tests/test_measurements.py \
	tests/test_processing.py tests/test_flips.py tests/test_predictor_mirrors.py \
	tests/test_settings.py tests/test_serve.py tests/test_robustness.py tests/test_ui.py \
	tests/test_concurrency.py
DATA ?= ../shared/data

.PHONY: setup edge up demo test test-deps lint locks train teacher distil gpu-bundle evaluate parity hard-cases darker-skin benchmark containers

setup: $(VENV)/.installed $(TFLITE_VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed edge
	@$(BIN)/python -m devtools.docker_engine --compose-plugin

$(VENV)/.installed: requirements/serve.txt requirements/lambda-runtime.txt requirements/train.txt requirements/dev.txt requirements/constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(TFLITE_VENV)/.installed: requirements/tflite-runtime.txt
	$(PYTHON) -m venv $(TFLITE_VENV)
	$(TFLITE_VENV)/bin/pip install --quiet -r requirements/tflite-runtime.txt
	touch $@

$(SAM_VENV)/.installed: requirements/sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet -r requirements/sam.txt
	touch $@

$(PY312_VENV)/.installed: requirements/serving-py312.txt requirements/serve.txt requirements/ui.txt requirements/constraints.txt pyproject.toml
	@test -n "$(PYTHON312)" || { echo "make: Python 3.12 not found (set PYTHON312=...)"; exit 1; }
	$(PYTHON312) -m venv $(PY312_VENV)
	$(PY312_VENV)/bin/pip install --quiet -r requirements/serving-py312.txt -c requirements/constraints.txt
	$(PY312_VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements/checkov.txt
	touch $@

## The on-device app (edge/): npm ci from the lockfile (no install scripts), then the site in
## build/edge with LiteRT.js's wasm and the served model, checked against edge/site/pipeline.json.
EDGE_SOURCES := $(wildcard edge/site/* edge/site/js/*) edge/build.mjs models/unet.tflite
edge: build/edge.stamp

edge/node_modules/.installed: edge/package-lock.json
	npm ci --prefix edge --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

build/edge.stamp: edge/node_modules/.installed $(EDGE_SOURCES)
	node edge/build.mjs
	touch $@

## The local stack without Docker: API on 127.0.0.1:8000, UI on 127.0.0.1:8501 (Ctrl-C stops).
## Only what it needs: .venv and the on-device app (not aws-sam-cli, tflite-runtime, checkov).
up: $(VENV)/.installed edge
	$(BIN)/python -m devtools.stack

## Segment a real full-field sample image with the deployed model (mask + overlay in out/).
demo: setup
	$(BIN)/python -m segcore.segment tests/fixtures/samples/ISIC_0000012.jpg --out out

## Lint, format check, strict types of segcore/ and the API, the whole test suite (no dataset
## needed) on Python 3.11 with the coverage floor of segcore and the API, and the serving code's
## fast tests again on Python 3.12 (the images' Python). Installs Debian's chromium for the browser test where it is missing; the
## container tests install and start a Docker engine themselves. The fast core alone:
##   .venv/bin/python -m pytest -m "not docker and not browser and not slow"
test: setup test-deps $(PY312_VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	npm --prefix edge run --silent typecheck
	node --test edge/test/*.test.js
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered
	$(PY312_VENV)/bin/python -m pytest -m "not docker and not browser and not slow" $(SERVING_TESTS)

## Debian's chromium for the browser test (Playwright cannot download a browser here).
test-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## The images' lock files (requirements/locks/: each image's requirements with the constraints,
## pinned and hashed, for Python 3.12 on x86_64 and aarch64), with uv from
## PyPI. `$(BIN)/python -m devtools.locks --check` (offline, in tests/test_locks.py) says which
## is stale.
locks: $(VENV)/.installed
	$(BIN)/python -m devtools.locks

## Train the committed model's recipe on $(DATA) (hours on 2 CPU cores; resumes if re-run):
## stage 1 on the crops alone, stage 2 from stage 1 on crops + full field with synthetic hard cases,
## stage 3 from stage 2 at a lower rate with another seed, stage 4 from stage 3 at half that rate
## with fewer synthetic hard cases, stage 5 from stage 4 at half that again with fewer still;
## then `make distil` (stage 6, the deployed model).
train: setup
	$(BIN)/python -m train --data-root $(DATA)/isic2018 --split models/split.json \
		--run runs/unet_b16_128 --size 128 --epochs 23 --hard-fraction 0
	$(BIN)/python -m train --data-root $(DATA)/isic2018 $(DATA)/isic2018_fullview \
		--split models/split.json --run runs/unet_b16_128_hard --size 128 --epochs 26 \
		--lr 1e-3 --patience 30 --workers 2 --init-from runs/unet_b16_128/unet_float.keras
	$(BIN)/python -m train --data-root $(DATA)/isic2018 $(DATA)/isic2018_fullview \
		--split models/split.json --run runs/unet_b16_128_stage3 --size 128 --epochs 55 \
		--lr 4e-4 --patience 100 --seed 2019 --workers 2 \
		--init-from runs/unet_b16_128_hard/unet_float.keras
	$(BIN)/python -m train --data-root $(DATA)/isic2018 $(DATA)/isic2018_fullview \
		--split models/split.json --run runs/unet_b16_128_stage4 --size 128 --epochs 63 \
		--lr 2e-4 --patience 100 --seed 4242 --hard-fraction 0.2 --workers 2 \
		--init-from runs/unet_b16_128_stage3/unet_float.keras
	$(BIN)/python -m train --data-root $(DATA)/isic2018 $(DATA)/isic2018_fullview \
		--split models/split.json --run runs/unet_b16_128_stage5 --size 128 --epochs 32 \
		--lr 1e-4 --patience 100 --seed 5151 --hard-fraction 0.1 --workers 2 \
		--init-from runs/unet_b16_128_stage4/unet_float.keras

## The teacher of stage 6: stage 5 at 128 px and 112 px in one Keras model, int8, four mirrors
## (eight U-Net passes an image: what was served from 2026-11-28 to 2026-12-02).
teacher: setup
	$(BIN)/python -m train.multiscale runs/unet_b16_128_stage5/unet_float.keras --sizes 112 \
		--out runs/teacher/unet_float.keras
	$(BIN)/python -m convert --model runs/teacher/unet_float.keras --data-root $(DATA)/isic2018 \
		--split models/split.json --out runs/teacher --flavours int8

## Stage 6, the served model: stage 5 distilled from the teacher's eight-pass map (blended 0.7
## with the ground truth), EMA weights; served in one U-Net pass (model card, "Passes per image").
## The committed run stopped after 7 of its epochs; its kept checkpoint is epoch 2's.
distil: teacher
	$(BIN)/python -m train --data-root $(DATA)/isic2018 $(DATA)/isic2018_fullview \
		--split models/split.json --run runs/unet_b16_128_stage6 --size 128 --epochs 12 \
		--lr 2e-5 --patience 100 --seed 3535 --hard-fraction 0.1 --workers 2 --ema 0.999 \
		--init-from runs/unet_b16_128_stage5/unet_float.keras \
		--teacher runs/teacher/unet_int8.tflite --teacher-weight 0.7 --time-budget 3300
	cp runs/unet_b16_128_stage6/unet_float.keras models/unet_float.keras

## What a GPU run carries (build/gpu: packs at 256 px + wheels); then scripts/gpu_run.sh there.
gpu-bundle: setup
	$(BIN)/python -m scripts.gpu_bundle --data $(DATA) --split models/split.json --size 256

## Score the committed float model on the three evaluation sets (models/metrics.json).
evaluate: setup
	$(BIN)/python -m train.evaluate --model models/unet_float.keras --split models/split.json \
		--standard-sets $(DATA) --out runs/eval
	cp runs/eval/metrics.json models/metrics.json

## Convert to every TFLite flavour, run the parity gate, deploy the winner as models/unet.tflite.
parity: setup
	$(BIN)/python -m convert --model models/unet_float.keras --data-root $(DATA)/isic2018 \
		--split models/split.json --out build/tflite
	$(BIN)/python -m convert.gate --keras models/unet_float.keras --tflite-dir build/tflite \
		--data $(DATA) --split models/split.json --out models \
		--also-runtime tflite-runtime=$(TFLITE_VENV)/bin/python

## The hard-cases set (small, faint lesions with distractors) from the held-out full-field ids,
## and the deployed model's Dice on it -> models/hard_cases.json, models/hard_cases_best_worst.png
hard-cases: setup
	$(BIN)/python -m isic.hard_cases make --data $(DATA) --split models/split.json --out runs/hard
	$(BIN)/python -m isic.hard_cases score --cases runs/hard --model models/unet.tflite \
		--out runs/hard_eval
	cp runs/hard_eval/hard_cases.json models/hard_cases.json
	cp runs/hard_eval/best_worst.png models/hard_cases_best_worst.png

## The darker-skin proxy (the held-out full-field ids under more epidermal melanin, level by
## level) and the deployed model's Dice at each level -> models/darker_skin.json
darker-skin: setup
	$(BIN)/python -m isic.darker_skin make --data $(DATA) --split models/split.json --out runs/dark
	$(BIN)/python -m isic.darker_skin score --cases runs/dark --model models/unet.tflite \
		--out runs/dark_eval
	cp runs/dark_eval/darker_skin.json models/darker_skin.json

## Deployed TFLite path vs float Keras vs the seed's stack; the Lambda handler; serving under load,
## latency by image size, peak memory of the worst uploads, batch throughput and the cost of
## 10,000 images; with a Docker engine, the image's
## cold start through its Lambda emulator and its serving layer (prints tables).
benchmark: setup
	$(BIN)/python -m benchmarks.inference --json runs/benchmark.json
	$(BIN)/python -m benchmarks.handler
	$(BIN)/python -m benchmarks.load --designs --soak 2000
	$(BIN)/python -m benchmarks.latency
	$(BIN)/python -m benchmarks.memory
	$(BIN)/python -m benchmarks.batch --data $(DATA)
	@if docker info >/dev/null 2>&1; then $(BIN)/python -m benchmarks.cold_start; \
	else echo "no Docker engine: benchmarks.cold_start skipped"; fi

## The container tests alone: images, docker compose, the Lambda emulator, sam build, sam local
## (installs and starts a Docker engine where none runs; stand-in base images where none exist).
containers: setup
	$(BIN)/python -m pytest -m docker
