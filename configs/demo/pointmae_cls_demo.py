# CPU twin of configs/pointmae/cls_modelnet40.py: the same pipeline (FPS 1024 of 1200, scale-and-
# translate, plain cross-entropy, [class token, max] head) with a tiny transformer (2 x 64) and a short
# schedule, on the synthetic ModelNet40-format objects of `make demo-objects`
# (tools/make_object_demo.py + tools/prepare_objects.py -> data/demo_objects/modelnet40_prepared).
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/modelnet40_cls.py",
    "../_base_/models/pointmae_cls.py",
    "../_base_/schedules/adamw_cosine_cls.py",
]

data_root = "data/demo_objects/modelnet40_prepared"
demo_classes = ("bathtub", "bed", "bookshelf", "chair", "desk", "door", "lamp", "sofa", "table", "toilet")
max_epochs = 15
warmup_epochs = 2
train_dataloader = dict(batch_size=16, num_workers=1, dataset=dict(data_root=data_root))
val_dataloader = dict(batch_size=16, num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

model = dict(
    num_classes=len(demo_classes),
    tokenizer=dict(num_tokens=32, patch_size=32, embed_dim=64, pointnet_hidden=(32, 64)),
    encoder=dict(embed_dim=64, depth=2, num_heads=4, mlp_ratio=2.0, drop_path_rate=0.0),
    head_hidden=(64, 64),
)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, end=max_epochs, T_max=max_epochs - warmup_epochs,
         eta_min=1e-5, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
default_hooks = dict(logger=dict(type="LoggerHook", interval=5),
                     checkpoint=dict(type="CheckpointHook", interval=5, max_keep_ckpts=1, save_best="OA", rule="greater"))
