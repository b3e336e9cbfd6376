# Demo-size EPCL S3DIS segmentation (configs/epcl/seg_s3dis.py at CPU size) on the synthetic rooms of
# tools/make_demo_data.py --dataset s3dis: hierarchical tokenizer 512 -> 256 -> 128 on 512-point
# blocks (2 m here: the synthetic rooms are sparse), a TINY RANDOM open_clip image
# transformer as the frozen encoder (random_init=True, logged), three interpolation steps back.
# It exercises the path, not EPCL's accuracy.
#   python tools/make_demo_data.py data/demo_s3dis_raw --dataset s3dis
#   python tools/prepare_s3dis.py data/demo_s3dis_raw data/demo_s3dis
#   python tools/train.py configs/demo/epcl_seg_s3dis_demo.py
_base_ = ["../epcl/seg_s3dis.py"]

data_root = "data/demo_s3dis"
num_points = 512
voxel_size = 0.05
clip_width = 64
max_iters = 100
val_interval = 50
tiny_clip = dict(
    embed_dim=32,
    vision_cfg=dict(image_size=32, patch_size=16, width=clip_width, layers=2, head_width=16),
    text_cfg=dict(context_length=8, vocab_size=64, width=32, heads=2, layers=1),
)

train_pipeline = [dict(type="RandomBlockCrop", block_size=2.0, min_points=128),
                  dict(type="PointSample", num_points=num_points), *_base_.train_augment, *_base_.point_features,
                  dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
train_dataloader = dict(batch_size=4, num_workers=1, persistent_workers=True,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=1, persistent_workers=True, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

model = dict(
    tokenizer=dict(num_tokens=(512, 256, 128), patch_size=16, channels=(32, 64, clip_width),
                   pointnet_hidden=(32, 64)),
    encoder=dict(_delete_=True, type="ClipTransformerEncoder", model_cfg=tiny_clip, quick_gelu=True, weights=None,
                 random_init=True, frozen=True),
    head=dict(in_channels=clip_width, skip_channels=[64, 32, 3 + 4], fp_channels=[(64,), (64,), (32,)],
              head_channels=(32,)),
    token_points=num_points,
    num_task_tokens=4,
    task_token_hidden=64,
)

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type="CosineAnnealingLR", by_epoch=False, begin=0, end=max_iters, T_max=max_iters,
                        eta_min=1e-5)]
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
default_hooks = dict(logger=dict(type="LoggerHook", interval=10),
                     checkpoint=dict(interval=val_interval))
