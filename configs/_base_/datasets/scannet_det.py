# ScanNet v2 detection (18 classes), prepared by tools/prepare_scannet.py into data_root.
dataset_type = "ScanNetDetection"
data_root = "data/scannet"
class_names = (
    "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf", "picture",
    "counter", "desk", "curtain", "refrigerator", "showercurtrain", "toilet", "sink", "bathtub",
    "garbagebin",
)
num_points = 40000
voxel_size = 0.025

train_pipeline = [
    dict(type="PointSample", num_points=num_points),
    # ScanNet heads predict no heading: flips keep yaw 0, rotation re-encloses boxes axis-aligned.
    dict(type="RandomFlip", prob_x=0.5, prob_y=0.5, heading=False),
    dict(type="RandomRotateZ", degrees=5.0, box_mode="enclose"),
    dict(type="RandomScale", scale_range=(0.9, 1.1)),
    dict(type="NormalizeColor", mean=(109.8, 97.2, 83.8), std=256.0),
    dict(type="HeightFeature", percentile=0.99),
    dict(type="PointFeatures", keys=("colors", "height")),
    dict(type="Voxelize", voxel_size=voxel_size),
    dict(type="PackInputs"),
]
test_pipeline = [
    dict(type="PointSample", num_points=num_points),
    dict(type="NormalizeColor", mean=(109.8, 97.2, 83.8), std=256.0),
    dict(type="HeightFeature", percentile=0.99),
    dict(type="PointFeatures", keys=("colors", "height")),
    dict(type="Voxelize", voxel_size=voxel_size),
    dict(type="PackInputs"),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=True),
    collate_fn=dict(type="sparse_collate"),
    dataset=dict(type=dataset_type, data_root=data_root, split="train", pipeline=train_pipeline,
                 class_names=class_names, with_instance=True),
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
