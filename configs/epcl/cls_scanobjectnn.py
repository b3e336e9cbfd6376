# EPCL classifier on ScanObjectNN PB_T50_RS. The paper trains a ScanObjectNN model for its captioning
# study (Sec. 4.5) without an accuracy table; this is cls_modelnet40.py's recipe on the hardest variant
# with Point-MAE's ScanObjectNN tokens (2048 points, 128 groups of 32). Other variants: data_root of
# an OBJ_BG / OBJ_ONLY cache (tools/prepare_objects.py --variant).
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/scanobjectnn_cls.py",
    "../_base_/models/epcl_cls.py",
    "../_base_/schedules/adamw_cosine_cls.py",
]

model = dict(num_classes=15, class_names=_base_.class_names, tokenizer=dict(num_tokens=128, patch_size=32))
optim_wrapper = dict(optimizer=dict(lr=3e-4, weight_decay=0.04))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6 / 3e-4, by_epoch=True, begin=0, end=10),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=10, end=300, T_max=290, eta_min=5e-7),
]
default_hooks = dict(checkpoint=dict(type="CheckpointHook", interval=10, max_keep_ckpts=2, save_best="OA", rule="greater"))
