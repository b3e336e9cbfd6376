# ScanObjectNN classification (15 classes), one variant per prepared cache, clouds kept as stored
# (2048 points):
#   python tools/prepare_objects.py scanobjectnn data/ScanObjectNN/h5_files data/scanobjectnn_pb_t50_rs \
#       --variant PB_T50_RS   (clouds kept as stored)
# Variants: OBJ_BG (main_split/*_objectdataset.h5), OBJ_ONLY (main_split_nobg/), PB_T50_RS
# (main_split/*_augmentedrot_scale75.h5). Point-MAE's recipe: 2048 points, scale-and-translate;
# children swap `train_augment` (ACT / ReCon / masked point distillation: rotation about the up axis).
_base_ = ["./sparse_loaders.py"]

dataset_type = "ObjectClassification"
variant = "PB_T50_RS"
class_names = ("bag", "bin", "box", "cabinet", "chair", "desk", "display", "door", "shelf", "table", "bed",
               "pillow", "sink", "sofa", "toilet")
data_root = "data/scanobjectnn_pb_t50_rs"
num_points = 2048
fps_pool = 2400
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
