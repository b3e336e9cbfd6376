# Demo-size PointGroup on the synthetic S3DIS rooms (tools/make_demo_data.py --dataset s3dis): a tiny
# SR-UNet, 10k sampled points, the App. B.1 optimiser on a short iteration schedule. The synthetic
# rooms are sampled every 5 cm, so the cluster radius is 0.1 m here (0.03 m in the paper config,
# for real scans); the score loss starts at iteration 100. Run with `make demo-instseg`.
_base_ = ["../instseg/pointgroup_srunet34c_s3dis.py"]

data_root = "data/demo_s3dis"
num_points = 10000
voxel_size = 0.05
max_iters = 300
val_interval = 150

train_pipeline = [dict(type="PointSample", num_points=num_points), *_base_.train_augment,
                  *_base_.point_features, dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
train_dataloader = dict(batch_size=4, num_workers=1, persistent_workers=True,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=1, persistent_workers=True, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

model = dict(backbone=dict(type="SRUNet", in_channels=4, out_channels=32, arch="tiny"),
             cluster=dict(radius=0.1, shift_radius=0.1, min_points=30),
             score=dict(start_iter=100), test_cfg=dict(min_points=50))

param_scheduler = [dict(type="PolyLR", power=0.9, eta_min=1e-4, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
default_hooks = dict(logger=dict(type="LoggerHook", interval=10),
                     checkpoint=dict(type="CheckpointHook", by_epoch=False, interval=val_interval,
                                     max_keep_ckpts=2, save_best="AP@0.5", rule="greater"))
