# Voting test of the demo classifier (as configs/pointmae/cls_modelnet40_vote.py): 10 copies of 1024 of
# the first 1200 FPS points, per-axis scale-and-translate, logits averaged.
_base_ = ["./pointmae_cls_demo.py"]

vote_pipeline = [dict(type="FPSSample", num_points=1200), *_base_.object_features,
                 dict(type="Voxelize", voxel_size=_base_.voxel_size), dict(type="PackInputs")]
test_dataloader = dict(dataset=dict(pipeline=vote_pipeline))
model = dict(test_cfg=dict(votes=10, num_points=1024, scale_range=(2.0 / 3.0, 1.5), translate_range=0.2, seed=0))
