# EPCL on ModelNet40 (paper Tab. 4: 92.9 % OA; 92.3 % with CLIP fine-tuned). Model: _base_/models/epcl_cls.py.
# Paper: AdamW lr 3e-4, weight decay ("decay ratio") 0.04, final lr 5e-7. Not stated (Point-MAE's
# recipe kept): 1024 points, 64 groups of 32, 300 epochs, 10 warm-up, batch 32, scale-and-translate.
# Switches: model.freeze_clip=False (Tab. 4 "w/o CLIP frozen"), model.num_task_tokens=0,
# model.text_loss_weight=0 (cross-entropy only).
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/modelnet40_cls.py",
    "../_base_/models/epcl_cls.py",
    "../_base_/schedules/adamw_cosine_cls.py",
]

model = dict(num_classes=40, class_names=_base_.class_names)
optim_wrapper = dict(optimizer=dict(lr=3e-4, weight_decay=0.04))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6 / 3e-4, by_epoch=True, begin=0, end=10),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=10, end=300, T_max=290, eta_min=5e-7),
]
default_hooks = dict(checkpoint=dict(type="CheckpointHook", interval=10, max_keep_ckpts=2, save_best="OA", rule="greater"))
