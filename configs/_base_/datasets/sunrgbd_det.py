# SUN RGB-D v1 detection (10 classes, oriented boxes), prepared by tools/prepare_sunrgbd.py into data_root.
dataset_type = "SUNRGBDDetection"
data_root = "data/sunrgbd"
class_names = (
    "bed", "table", "sofa", "chair", "toilet", "desk", "dresser", "night_stand", "bookshelf",
    "bathtub",
)
num_points = 20000
voxel_size = 0.025
# rgb is stored in [0, 1]: centre it to [-1, 1].
color_mean, color_std = 0.5, 0.5

train_pipeline = [
    dict(type="PointSample", num_points=num_points),
    # Oriented boxes: an x-flip mirrors the heading (yaw -> pi - yaw); rotations turn yaw with the
    # points. VoteNet's SUN RGB-D recipe flips x only (the camera looks along +y).
    dict(type="RandomFlip", prob_x=0.5, prob_y=0.0, heading=True),
    dict(type="RandomRotateZ", degrees=30.0, box_mode="rotate"),
    dict(type="RandomScale", scale_range=(0.85, 1.15)),
    dict(type="NormalizeColor", mean=color_mean, std=color_std),
    dict(type="HeightFeature", percentile=0.99),
    dict(type="PointFeatures", keys=("colors", "height")),
    dict(type="Voxelize", voxel_size=voxel_size),
    dict(type="PackInputs"),
]
test_pipeline = [
    dict(type="PointSample", num_points=num_points),
    dict(type="NormalizeColor", mean=color_mean, std=color_std),
    dict(type="HeightFeature", percentile=0.99),
    dict(type="PointFeatures", keys=("colors", "height")),
    dict(type="Voxelize", voxel_size=voxel_size),
    dict(type="PackInputs"),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=True),
    collate_fn=dict(type="sparse_collate"),
    dataset=dict(type=dataset_type, data_root=data_root, split="train", pipeline=train_pipeline,
                 class_names=class_names),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=False),
    collate_fn=dict(type="sparse_collate"),
    dataset=dict(type=dataset_type, data_root=data_root, split="val", pipeline=test_pipeline,
                 class_names=class_names, test_mode=True),
)
test_dataloader = val_dataloader
val_evaluator = dict(type="IndoorDetMetric", iou_thresholds=(0.25, 0.5))
test_evaluator = val_evaluator
