# Two commands for a fresh machine: `make demo` and `make test`.
# Both create .venv (registry torch, CUDA build; it runs on CPU too) when it is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.voxclip-installed
DEMO_RAW ?= data/demo_raw
DEMO_OUT ?= data/demo
DEMO_CFG ?= configs/demo/votenet_srunet_demo.py
DEMO_WORK ?= work_dirs/demo
PYTEST_ARGS ?=

.PHONY: venv demo demo-text4point demo-s4token test bench clean-venv

venv: $(STAMP)

$(STAMP): pyproject.toml tools/setup_env.sh
	bash tools/setup_env.sh "$(PYTHON)" "$(VENV)"
	touch $(STAMP)

demo: $(STAMP)
	bash tools/run_demo.sh "$(PY)" "$(DEMO_RAW)" "$(DEMO_OUT)" "$(DEMO_CFG)" "$(DEMO_WORK)"

# Text4Point chain on the same scenes: 2D-3D pairs, pretraining with a random tiny CLIP, then
# language-guided VoteNet fine-tuning from that checkpoint, evaluation (docs/text4point.md).
demo-text4point: $(STAMP)
	bash tools/run_demo.sh "$(PY)" "$(DEMO_RAW)" "$(DEMO_OUT)" configs/demo/text4point_votenet_demo.py \
		work_dirs/text4point_votenet_demo configs/demo/text4point_pretrain_demo.py

# S4Token chain on its own scenes: pairs, self-supervised pretraining with a random tiny CLIP ViT,
# open-vocabulary segmentation (mIoU table) and one query picture (docs/s4token.md).
demo-s4token: $(STAMP)
	bash tools/run_s4token_demo.sh "$(PY)" data/s4token_demo_raw data/s4token_demo work_dirs/s4token_demo

test: $(STAMP)
	OMP_NUM_THREADS=2 $(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) tools/benchmark_sparse.py
	$(PY) tools/benchmark_prepare.py
	$(PY) tools/benchmark_pairs.py
	$(PY) tools/benchmark_superpoints.py

clean-venv:
	rm -rf $(VENV)
