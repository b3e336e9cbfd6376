# ScanNet v2 detection (18 classes), prepared by tools/prepare_scannet.py into data_root.
# Children that change num_points / voxel_size rebuild the pipelines from train_augment and
# point_features (configs/demo/votenet_srunet_demo.py shows how).
_base_ = ["./sparse_loaders.py"]

dataset_type = "ScanNetDetection"
data_root = "data/scannet"
class_names = (
    "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf", "picture",
    "counter", "desk", "curtain", "refrigerator", "showercurtrain", "toilet", "sink", "bathtub",
    "garbagebin",
)
num_points = 40000
voxel_size = 0.025

# ScanNet heads predict no heading: flips keep yaw 0, rotation re-encloses boxes axis-aligned.
# VoteNet's and 3DETR's ScanNet recipe: x / y flips and +-5 deg rotation, no scaling (a child that
# wants scale adds dict(type="RandomScale", scale_range=(0.9, 1.1))).
train_augment = [
    dict(type="RandomFlip", prob_x=0.5, prob_y=0.5, heading=False),
    dict(type="RandomRotateZ", degrees=5.0, box_mode="enclose"),
]
point_features = [
    dict(type="NormalizeColor", mean=(109.8, 97.2, 83.8), std=256.0),
    dict(type="HeightFeature", percentile=0.99),
    dict(type="PointFeatures", keys=("colors", "height")),
]
train_pipeline = [dict(type="PointSample", num_points=num_points), *train_augment, *point_features,
                  dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
test_pipeline = [dict(type="PointSample", num_points=num_points), *point_features,
                 dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split="train", pipeline=train_pipeline,
                 class_names=class_names, with_instance=True),
)
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split="val", pipeline=test_pipeline,
                 class_names=class_names, test_mode=True),
)
test_dataloader = val_dataloader
val_evaluator = dict(type="IndoorDetMetric", iou_thresholds=(0.25, 0.5))
test_evaluator = val_evaluator
