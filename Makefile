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

.PHONY: venv demo demo-text4point demo-instseg demo-objects demo-partseg demo-concept-align demo-mmpd demo-s4token test bench clean-venv

venv: $(STAMP)

$(STAMP): pyproject.toml tools/setup_env.sh
	bash tools/setup_env.sh "$(PYTHON)" "$(VENV)"
	touch $(STAMP)

# The VoteNet demo: 120 scenes (72 train / 48 val: enough validation scenes for a stable mAP), no RGB-D
# frames (only the pretraining chains read them); docs/benchmarks.md "Demo stability".
demo: $(STAMP)
	DEMO_SCENES=$${DEMO_SCENES:-120} DEMO_VAL_FRACTION=$${DEMO_VAL_FRACTION:-0.4} bash tools/run_demo.sh "$(PY)" "$(DEMO_RAW)" "$(DEMO_OUT)" "$(DEMO_CFG)" "$(DEMO_WORK)"

# Text4Point chain on the same scenes: 2D-3D pairs, pretraining with a random tiny CLIP, then
# language-guided VoteNet fine-tuning from that checkpoint, evaluation (docs/text4point.md).
demo-text4point: $(STAMP)
	bash tools/run_demo.sh "$(PY)" "$(DEMO_RAW)" "$(DEMO_OUT)" configs/demo/text4point_votenet_demo.py \
		work_dirs/text4point_votenet_demo configs/demo/text4point_pretrain_demo.py

# PointGroup instance segmentation on synthetic S3DIS rooms: rooms, preparation, training, the
# per-class AP / mPrec / mRec table on Area 5 (docs/instance_segmentation.md).
INSTSEG_WORK ?= work_dirs/pointgroup_s3dis_demo
demo-instseg: $(STAMP)
	$(PY) tools/make_demo_data.py data/demo_s3dis_raw --dataset s3dis
	$(PY) tools/prepare_s3dis.py data/demo_s3dis_raw data/demo_s3dis
	$(PY) tools/train.py configs/demo/pointgroup_s3dis_demo.py --work-dir $(INSTSEG_WORK)
	$(PY) tools/test.py configs/demo/pointgroup_s3dis_demo.py \
		$(INSTSEG_WORK)/$$(xargs basename < $(INSTSEG_WORK)/last_checkpoint) --work-dir $(INSTSEG_WORK) \
		--show-dir $(INSTSEG_WORK)/show
	@echo "[demo-instseg] instance and semantic pictures (PNG + .ply per room) in $(INSTSEG_WORK)/show"

# Object classification on synthetic ModelNet40-format objects: prepare, train, evaluate without and
# with voting, print the accuracy table (docs/objects.md).
demo-objects: $(STAMP)
	bash tools/run_objects_demo.sh "$(PY)" data/demo_objects_raw data/demo_objects/modelnet40_prepared \
		configs/demo/pointmae_cls_demo.py work_dirs/pointmae_cls_demo

# Part segmentation on a synthetic ShapeNetPart tree (Table, Lamp, Chair, Mug; release layout): write it,
# train the CPU twin, instance / class mIoU per 10 epochs in the log (docs/objects.md).
demo-partseg: $(STAMP)
	$(PY) tools/make_object_demo.py data/demo_objects_raw --formats shapenetpart --train-per-class 24 \
		--test-per-class 8 --seed 0 --noise 0.01
	$(PY) tools/train.py configs/demo/pointmae_partseg_demo.py --work-dir work_dirs/pointmae_partseg_demo

# Concept-alignment chain on the same scenes: pairs, pretraining from a random tiny CLIP + random
# tiny ClipCap mapper, 3DETR fine-tuning from that checkpoint, evaluation (docs/concept_align.md).
demo-concept-align: $(STAMP)
	DEMO_PRETRAIN_CLIP_KEYS=model.teacher.image_encoder.weights DEMO_FINETUNE_CKPT_KEY=model.pretrained.checkpoint \
	DEMO_FINETUNE_CLIP_KEYS= DEMO_CLIPCAP=$${DEMO_CLIPCAP:-data/demo_clip/tiny_clipcap_mlp.pt} \
	bash tools/run_demo.sh "$(PY)" "$(DEMO_RAW)" "$(DEMO_OUT)" configs/demo/concept_align_3detr_demo.py \
		work_dirs/concept_align_3detr_demo configs/demo/concept_align_pretrain_demo.py

# MMPD chain on the same scenes: pairs, stage 1 (random tiny CLIP + DINOv2 teachers), stage 2,
# 3DETR fine-tuning from the stage-2 encoder, evaluation (docs/mmpd.md).
demo-mmpd: $(STAMP)
	bash tools/run_mmpd_demo.sh "$(PY)" "$(DEMO_RAW)" "$(DEMO_OUT)" work_dirs/mmpd_demo

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
