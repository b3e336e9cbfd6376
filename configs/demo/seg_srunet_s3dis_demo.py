# Demo-size S3DIS semantic segmentation (13 classes, Area 5 held out) on the synthetic rooms of
# tools/make_demo_data.py --dataset s3dis: a tiny SR-UNet + linear classifier, 5 cm voxels, the
# App. B.1 optimiser (SGD 0.1, poly 0.9, wd 1e-4) on a short iteration schedule. Measured on 2
# shared CPU cores (OMP_NUM_THREADS=1): 2 min 56 s, ~0.45 s per iteration, 1.1 GB RSS; Area 5 mIoU
# 0.29 / 0.62 / 0.70 after 100 / 200 / 300 iterations (docs/s3dis.md):
#   python tools/make_demo_data.py data/demo_s3dis_raw --dataset s3dis
#   python tools/prepare_s3dis.py data/demo_s3dis_raw data/demo_s3dis
#   python tools/train.py configs/demo/seg_srunet_s3dis_demo.py
_base_ = ["../seg/seg_srunet34c_s3dis.py"]

data_root = "data/demo_s3dis"
num_points = 10000
voxel_size = 0.05
max_iters = 300
val_interval = 100

train_pipeline = [dict(type="PointSample", num_points=num_points), *_base_.train_augment,
                  *_base_.point_features, dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
train_dataloader = dict(batch_size=4, num_workers=1, persistent_workers=True,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=2, num_workers=1, persistent_workers=True, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

model = dict(backbone=dict(type="SRUNet", in_channels=4, out_channels=32, arch="tiny"))

param_scheduler = [dict(type="PolyLR", power=0.9, eta_min=1e-4, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
default_hooks = dict(logger=dict(type="LoggerHook", interval=10),
                     checkpoint=dict(type="CheckpointHook", by_epoch=False, interval=val_interval,
                                     max_keep_ckpts=2, save_best="mIoU", rule="greater"))
