# ModelNet40 classification (9843 train / 2468 test, 40 classes) from the prepared cache
#   python tools/prepare_objects.py modelnet40 data/modelnet40_normal_resampled data/modelnet40_prepared --num-points 8192
# (docs/objects.md). Point-MAE's recipe: 8192 FPS points stored; training takes 1024 random of the
# first 1200 FPS points, then per-axis scale U(2/3, 3/2) and shift U(-0.2, 0.2); testing takes the
# first 1024 FPS points. Voxels are not used by the classifier; they keep the shared batch contract.
_base_ = ["./sparse_loaders.py"]

dataset_type = "ObjectClassification"
# label order of modelnet40_shape_names.txt (the prepared index holds the data's own list)
class_names = (
    "airplane", "bathtub", "bed", "bench", "bookshelf", "bottle", "bowl", "car", "chair", "cone", "cup", "curtain",
    "desk", "door", "dresser", "flower_pot", "glass_box", "guitar", "keyboard", "lamp", "laptop", "mantel", "monitor",
    "night_stand", "person", "piano", "plant", "radio", "range_hood", "sink", "sofa", "stairs", "stool", "table",
    "tent", "toilet", "tv_stand", "vase", "wardrobe", "xbox")
data_root = "data/modelnet40_prepared"
num_points = 1024
fps_pool = 1200
voxel_size = 0.05
object_features = [dict(type="PointFeatures", keys=("points",))]
train_augment = [dict(type="ScaleAndTranslate", scale_range=(2.0 / 3.0, 1.5), translate_range=0.2)]

train_pipeline = [dict(type="FPSSample", num_points=num_points, pool=fps_pool), *train_augment, *object_features,
                  dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
test_pipeline = [dict(type="FPSSample", num_points=num_points), *object_features,
                 dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]

train_dataloader = dict(batch_size=32, drop_last=True,  # BatchNorm head: no 1-object last batch (as released)
                        dataset=dict(type=dataset_type, data_root=data_root, split="train", pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, dataset=dict(type=dataset_type, data_root=data_root, split="test",
                                                  pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type="ClsMetric")
test_evaluator = val_evaluator
