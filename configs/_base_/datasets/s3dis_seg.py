# S3DIS semantic segmentation, "Area 5 test" (13 classes), prepared by tools/prepare_s3dis.py
# (docs/s3dis.md). Text4Point App. B.1 (following PointContrast): 5 cm voxels, random horizontal
# flip, colour jitter, rotation about z, scaling. Training samples up to 200k points of a room
# (whole rooms hold 0.1-3 M points; at 5 cm almost every occupied voxel keeps a point, our choice);
# evaluation uses every point of the room, so the metric is on full rooms. Features: colour
# normalised as the Text4Point pretraining (VoteNet's ScanNet mean) + height above the floor.
_base_ = ["./sparse_loaders.py", "./indoor_seg_augment.py"]

dataset_type = "S3DISSegmentation"
data_root = "data/s3dis"
test_area = 5
class_names = (
    "ceiling", "floor", "wall", "beam", "column", "window", "door", "table", "chair", "sofa",
    "bookcase", "board", "clutter",
)
num_points = 200000
voxel_size = 0.05

train_pipeline = [dict(type="PointSample", num_points=num_points), *_base_.train_augment, *_base_.point_features,
                  dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
test_pipeline = [*_base_.point_features, dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]

train_dataloader = dict(
    batch_size=12,
    sampler=dict(type="InfiniteSampler"),
    dataset=dict(type=dataset_type, data_root=data_root, test_area=test_area, split="train",
                 pipeline=train_pipeline, class_names=class_names),
)
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, test_area=test_area, split="val",
                 pipeline=test_pipeline, class_names=class_names, test_mode=True),
)
test_dataloader = val_dataloader
val_evaluator = dict(type="SegMetric", class_names=class_names, ignore_index=-1)
test_evaluator = val_evaluator
