# partseg_shapenetpart.py with the normals as 3 extra input channels (the released main.py's --normal
# switch): the tokenizer's patches carry [relative xyz, normal], the last propagation skip [xyz, normal].
_base_ = ["./partseg_shapenetpart.py"]

object_features = [dict(type="PointFeatures", keys=("normals",))]
_tail = [*object_features, dict(type="Voxelize", voxel_size=0.05), dict(type="PackInputs")]
_sample = dict(type="PointSample", num_points=2048, replace=True)
train_dataloader = dict(dataset=dict(use_normals=True, pipeline=[
    _sample, dict(type="RandomScale", scale_range=(0.8, 1.25)),
    dict(type="ScaleAndTranslate", scale_range=(1.0, 1.0), translate_range=0.1), *_tail]))
val_dataloader = dict(dataset=dict(use_normals=True, pipeline=[_sample, *_tail]))
test_dataloader = val_dataloader
model = dict(use_point_feats=True, tokenizer=dict(in_feat_channels=3), head=dict(skip_channels=[6]))
