# One way to set up and run everything. Needs Python 3.11 (python3.11 or python3 on PATH).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data

.PHONY: setup demo test lint format train evaluate

setup: $(VENV)/.installed

$(VENV)/.installed: requirements/*.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt
	touch $@

## Segment a real full-field sample image with the committed model (mask + overlay in out/).
demo: setup
	$(BIN)/python -m train.segment tests/fixtures/samples/ISIC_0000012.jpg --out out

## Lint, format check and the whole test suite (no dataset needed).
test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Train the committed model's recipe on $(DATA) (hours on 2 CPU cores; resumes if re-run).
train: setup
	$(BIN)/python -m train --data-root $(DATA)/isic2018 --run runs/unet_b16_128 --size 128 --epochs 30

## Score the committed model on the official validation set.
evaluate: setup
	$(BIN)/python -m train.evaluate --model models/unet_float.keras \
		--data-root $(DATA)/isic2018 --subset validation --out runs/eval_validation
