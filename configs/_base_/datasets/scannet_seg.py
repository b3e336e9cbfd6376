# ScanNet v2 semantic segmentation (20 classes, -1 ignore), prepared by tools/prepare_scannet.py.
# Text4Point App. B.1: 5 cm voxels, flips, rotation, scaling, colour jitter. Training samples points
# (PointSample); evaluation uses every point of the scene, so the metric is on the full scene.
_base_ = ["./sparse_loaders.py", "./indoor_seg_augment.py"]

dataset_type = "ScanNetSegmentation"
data_root = "data/scannet"
class_names = (
    "wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf",
    "picture", "counter", "desk", "curtain", "refrigerator", "showercurtrain", "toilet", "sink",
    "bathtub", "otherfurniture",
)
num_points = 100000
voxel_size = 0.05

train_pipeline = [dict(type="PointSample", num_points=num_points), *_base_.train_augment, *_base_.point_features,
                  dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
test_pipeline = [*_base_.point_features, dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split="train", pipeline=train_pipeline,
                 class_names=class_names),
)
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split="val", pipeline=test_pipeline,
                 class_names=class_names, test_mode=True),
)
test_dataloader = val_dataloader
val_evaluator = dict(type="SegMetric", class_names=class_names, ignore_index=-1)
test_evaluator = val_evaluator
