# SUN RGB-D v1 detection (10 classes, oriented boxes), prepared by tools/prepare_sunrgbd.py into data_root.
_base_ = ["./sparse_loaders.py"]

dataset_type = "SUNRGBDDetection"
data_root = "data/sunrgbd"
class_names = (
    "bed", "table", "sofa", "chair", "toilet", "desk", "dresser", "night_stand", "bookshelf",
    "bathtub",
)
num_points = 20000
voxel_size = 0.025

# Oriented boxes: an x-flip mirrors the heading (yaw -> pi - yaw); rotations turn yaw with the
# points. VoteNet's SUN RGB-D recipe flips x only (the camera looks along +y).
train_augment = [
    dict(type="RandomFlip", prob_x=0.5, prob_y=0.0, heading=True),
    dict(type="RandomRotateZ", degrees=30.0, box_mode="rotate"),
    dict(type="RandomScale", scale_range=(0.85, 1.15)),
]
point_features = [
    dict(type="NormalizeColor", mean=0.5, std=0.5),  # rgb is stored in [0, 1]: centre it to [-1, 1]
    dict(type="HeightFeature", percentile=0.99),
    dict(type="PointFeatures", keys=("colors", "height")),
]
train_pipeline = [dict(type="PointSample", num_points=num_points), *train_augment, *point_features,
                  dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
test_pipeline = [dict(type="PointSample", num_points=num_points), *point_features,
                 dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]

train_dataloader = dict(
    batch_size=16,
    dataset=dict(type=dataset_type, data_root=data_root, split="train", pipeline=train_pipeline,
                 class_names=class_names),
)
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split="val", pipeline=test_pipeline,
                 class_names=class_names, test_mode=True),
)
test_dataloader = val_dataloader
val_evaluator = dict(type="IndoorDetMetric", iou_thresholds=(0.25, 0.5))
test_evaluator = val_evaluator
