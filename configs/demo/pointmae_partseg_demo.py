# CPU twin of configs/pointmae/partseg_shapenetpart.py: the same pipeline (2048 points drawn with
# replacement, scale + shift, category one-hot, category-restricted argmax, instance / class mIoU) and
# model structure (fetched layers concatenated, max + mean + label embedding, propagation to the points)
# with a tiny transformer (4 x 64, layers 1/2/3 fetched, 64 groups of 32) and a short schedule, on the
# synthetic ShapeNetPart tree (4 categories: Table, Lamp, Chair, Mug):
#   python tools/make_object_demo.py data/demo_objects_raw --formats shapenetpart --train-per-class 24 \
#       --test-per-class 8 --seed 0 --noise 0.01
#   python tools/train.py configs/demo/pointmae_partseg_demo.py
_base_ = ["../pointmae/partseg_shapenetpart.py"]

data_root = "data/demo_objects_raw/shapenetcore_partanno_segmentation_benchmark_v0_normal"
max_epochs = 30
warmup_epochs = 2
embed_dim = 64
train_dataloader = dict(batch_size=16, num_workers=1, dataset=dict(data_root=data_root))
val_dataloader = dict(batch_size=16, num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

model = dict(
    fetch_layers=(1, 2, 3),
    label_dim=16,
    tokenizer=dict(num_tokens=64, patch_size=32, embed_dim=embed_dim, pointnet_hidden=(32, 64)),
    encoder=dict(embed_dim=embed_dim, depth=4, num_heads=4, mlp_ratio=2.0, drop_path_rate=0.0),
    head=dict(fp_channels=[(128, 64)], head_channels=(64, 32)),
)
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, end=max_epochs, T_max=max_epochs - warmup_epochs,
         eta_min=1e-5, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
default_hooks = dict(logger=dict(type="LoggerHook", interval=5),
                     checkpoint=dict(type="CheckpointHook", interval=10, max_keep_ckpts=1, save_best="ins_mIoU",
                                     rule="greater"))
