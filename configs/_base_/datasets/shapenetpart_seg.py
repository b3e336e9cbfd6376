# ShapeNetPart part segmentation (16 categories, 50 parts) read from the release as distributed
# (shapenetcore_partanno_segmentation_benchmark_v0_normal/, docs/objects.md). Point-MAE's loader
# (segmentation/dataset.py PartNormalDataset, main.py): train on train + val ('trainval'), test on test,
# 2048 points drawn with replacement per shape, xyz only (normals: use_normals=True + PointFeatures on
# 'normals'); training augmentation: one uniform scale U(0.8, 1.25) then a shift U(-0.1, 0.1) per axis
# (provider.random_scale_point_cloud / shift_point_cloud). Voxels are unused by the model; they keep the
# shared batch contract.
_base_ = ["./sparse_loaders.py"]

dataset_type = "ShapeNetPartSegmentation"
data_root = "data/shapenetcore_partanno_segmentation_benchmark_v0_normal"
num_points = 2048
use_normals = False
voxel_size = 0.05
object_features = [dict(type="PointFeatures", keys=("points",))]
train_augment = [dict(type="RandomScale", scale_range=(0.8, 1.25)),
                 dict(type="ScaleAndTranslate", scale_range=(1.0, 1.0), translate_range=0.1)]

sample = [dict(type="PointSample", num_points=num_points, replace=True)]
train_pipeline = [*sample, *train_augment, *object_features, dict(type="Voxelize", voxel_size=voxel_size),
                  dict(type="PackInputs")]
test_pipeline = [*sample, *object_features, dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]

train_dataloader = dict(batch_size=16, drop_last=True,  # as released (BatchNorm in the head)
                        dataset=dict(type=dataset_type, data_root=data_root, split="trainval", use_normals=use_normals,
                                     pipeline=train_pipeline))
val_dataloader = dict(batch_size=16, dataset=dict(type=dataset_type, data_root=data_root, split="test",
                                                  use_normals=use_normals, pipeline=test_pipeline, test_mode=True,
                                                  test_seed=0))
test_dataloader = val_dataloader
val_evaluator = dict(type="PartSegMetric")
test_evaluator = val_evaluator
