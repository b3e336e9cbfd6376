# Demo-size twin of votenet/votenet_srunet34c_sunrgbd.py for CPU: tiny SR-UNet, 5 cm voxels, 3k
# points, small head, short schedule. Data: synthetic SUN RGB-D images, e.g.
#   python -c "from data_prep.synthetic.sunrgbd import make_sunrgbd_demo as m; \
#              m('data/sunrgbd_demo_raw', 150, 0, layouts=('export',))"
#   python tools/prepare_sunrgbd.py data/sunrgbd_demo_raw/export data/sunrgbd_demo
#   python tools/train.py configs/demo/votenet_srunet_sunrgbd_demo.py
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/sunrgbd_det.py",
]

data_root = "data/sunrgbd_demo"
num_points = 3000  # the synthetic 64x48 depth images hold ~3k points
voxel_size = 0.05
train_pipeline = [dict(type="PointSample", num_points=num_points), *_base_.train_augment,
                  *_base_.point_features, dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
test_pipeline = [dict(type="PointSample", num_points=num_points), *_base_.point_features,
                 dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline),
)
test_dataloader = val_dataloader

model = dict(
    type="VoteNetDetector",
    backbone=dict(type="SRUNet", in_channels=4, out_channels=64, arch="tiny", conv0_kernel_size=3),
    head=dict(
        type="VoteHead",
        num_classes=10,
        in_channels=64,
        mean_sizes="from_dataset",
        num_heading_bins=12,
        num_seeds=256,
        num_proposals=64,
        agg_radius=0.3,
        agg_nsample=16,
        agg_mlp=(64, 64, 64),
        proposal_hidden=(64, 64),
        test_cfg=dict(nms_iou=0.25, score_thr=0.05, per_class_proposal=True, nms_axis_aligned=True),
    ),
)

max_epochs = 40
warmup_epochs = 2
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=3e-3, weight_decay=0.0),
                     clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, end=max_epochs,
         T_max=max_epochs - warmup_epochs, eta_min=1e-5, convert_to_iter_based=True),
]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
default_hooks = dict(logger=dict(type="LoggerHook", interval=5),
                     checkpoint=dict(type="CheckpointHook", interval=10, max_keep_ckpts=1, save_best="mAP@0.5",
                                     rule="greater"))
auto_scale_lr = dict(enable=False, base_batch_size=8)
