# ScanNet v2 semantic segmentation (20 classes, -1 ignore), prepared by tools/prepare_scannet.py.
# Text4Point App. B.1: 5 cm voxels, flips, rotation, scaling, colour jitter. Training samples points
# (PointSample); evaluation uses every point of the scene, so the metric is on the full scene.
dataset_type = "ScanNetSegmentation"
data_root = "data/scannet"
class_names = (
    "wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf",
    "picture", "counter", "desk", "curtain", "refrigerator", "showercurtrain", "toilet", "sink",
    "bathtub", "otherfurniture",
)
num_points = 100000
voxel_size = 0.05

train_pipeline = [
    dict(type="PointSample", num_points=num_points),
    dict(type="RandomFlip", prob_x=0.5, prob_y=0.5, heading=False),
    dict(type="RandomRotateZ", degrees=180.0, box_mode="enclose"),
    dict(type="RandomScale", scale_range=(0.9, 1.1)),
    dict(type="RandomColorJitter"),
    dict(type="NormalizeColor", mean=(109.8, 97.2, 83.8), std=256.0),
    dict(type="HeightFeature", percentile=0.99),
    dict(type="PointFeatures", keys=("colors", "height")),
    dict(type="Voxelize", voxel_size=voxel_size),
    dict(type="PackInputs"),
]
test_pipeline = [
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
val_evaluator = dict(type="SegMetric", class_names=class_names, ignore_index=-1)
test_evaluator = val_evaluator
