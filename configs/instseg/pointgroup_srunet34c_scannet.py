# PointGroup instance segmentation on SR-UNet34C, ScanNet v2 (benchmark: 18 instance classes; wall
# and floor are neither grouped nor evaluated). PointGroup's released ScanNet settings: 2 cm voxels
# (scale 50), Adam lr 1e-3, batch 4, 384 epochs with the score loss from epoch 128, cluster radius
# 0.03 m, ScoreNet 16 wide, test score 0.09 / 100 points / NMS 0.3. The metric is the ScanNet
# benchmark's (AP over IoU 0.5:0.9, AP@0.5, AP@0.25, 100-point minimum region).
#   torchrun --nproc_per_node 4 tools/train.py configs/instseg/pointgroup_srunet34c_scannet.py --launcher pytorch
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/scannet_seg.py",
]

class_names = {{_base_.class_names}}
num_points = 250000  # PointGroup crops training scenes to at most 250k points
voxel_size = 0.02
max_epochs = 384
iters_per_epoch = 1201 // 4  # ScanNet v2 train scenes / batch

train_pipeline = [dict(type="PointSample", num_points=num_points), *_base_.train_augment,
                  *_base_.point_features, dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
test_pipeline = [*_base_.point_features, dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
train_dataloader = dict(batch_size=4, dataset=dict(with_instance=True, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(with_instance=True, pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(
    type="PointGroup",
    num_classes=20,
    backbone=dict(type="SRUNet", in_channels=4, out_channels=96, arch="34C"),
    cluster=dict(radius=0.03, shift_radius=0.03, min_points=50, ignore_classes=(0, 1)),
    score=dict(width=16, scale=50.0, full_scale=14, fg_thresh=0.75, bg_thresh=0.25,
               start_iter=128 * iters_per_epoch),
    test_cfg=dict(score_thr=0.09, min_points=100, nms_iou=0.3),
)
val_evaluator = dict(_delete_=True, type="InstanceSegMetric", benchmark="scannet", class_names=class_names,
                     min_region_size=100)
test_evaluator = val_evaluator

optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-3), clip_grad=None)
param_scheduler = []  # PointGroup: constant Adam learning rate
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=16)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
default_hooks = dict(logger=dict(type="LoggerHook", interval=50),
                     checkpoint=dict(type="CheckpointHook", interval=16, max_keep_ckpts=2, save_best="AP@0.5",
                                     rule="greater"))
