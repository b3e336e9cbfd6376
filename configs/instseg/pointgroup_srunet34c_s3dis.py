# Instance segmentation baseline: PointGroup on SR-UNet34C, S3DIS Area 5, from scratch (Text4Point
# Tab. 2 "SR-UNet": 59.3 mAP@0.5 published). Backbone, data and optimiser as the semantic
# segmentation baseline (App. B.1, following PointContrast: 5 cm voxels, SGD 0.1, poly 0.9, wd 1e-4,
# 60k iterations, batch 48); PointGroup's released constants for the heads (cluster radius 0.03 m,
# 50-point clusters, ScoreNet 16 wide at 50 voxels/m over at most 14 voxels, fg/bg 0.75/0.25, test
# score 0.09, 100 points, NMS 0.3). The score loss starts after a third of training, as PointGroup's
# prepare_epochs (128 of 384). docs/instance_segmentation.md lists every constant with its source.
#   torchrun --nproc_per_node 4 tools/train.py configs/instseg/pointgroup_srunet34c_s3dis.py --launcher pytorch
_base_ = ["../seg/seg_srunet34c_s3dis.py"]

class_names = {{_base_.class_names}}
train_dataloader = dict(dataset=dict(with_instance=True))
val_dataloader = dict(dataset=dict(with_instance=True))
test_dataloader = val_dataloader

model = dict(
    _delete_=True,
    type="PointGroup",
    num_classes=13,
    backbone=dict(type="SRUNet", in_channels=4, out_channels=96, arch="34C"),
    cluster=dict(radius=0.03, shift_radius=0.03, min_points=50, ignore_classes=()),
    score=dict(width=16, scale=50.0, full_scale=14, fg_thresh=0.75, bg_thresh=0.25, start_iter=20000),
    test_cfg=dict(score_thr=0.09, min_points=100, nms_iou=0.3),
    loss_weights=dict(semantic=1.0, offset_norm=1.0, offset_dir=1.0, score=1.0),
)
val_evaluator = dict(_delete_=True, type="InstanceSegMetric", benchmark="s3dis", class_names=class_names,
                     min_region_size=100)
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best="AP@0.5", rule="greater"))
