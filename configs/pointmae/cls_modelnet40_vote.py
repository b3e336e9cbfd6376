# Testing a ModelNet40 classifier with voting (Point-MAE's test_vote): 10 copies of each object, each
# 1024 random points of its first 1200 FPS points with per-axis scale U(2/3, 3/2) and shift
# U(-0.2, 0.2); logits averaged. (The released test additionally repeats the whole vote 300 times and
# keeps the best run; we do not: one seeded vote.)
#   python tools/test.py configs/pointmae/cls_modelnet40_vote.py work_dirs/cls_modelnet40/best_OA_*.pth
_base_ = ["./cls_modelnet40.py"]

vote_pipeline = [dict(type="FPSSample", num_points=1200), *_base_.object_features,
                 dict(type="Voxelize", voxel_size=_base_.voxel_size), dict(type="PackInputs")]
test_dataloader = dict(dataset=dict(pipeline=vote_pipeline))
model = dict(test_cfg=dict(votes=10, num_points=1024, scale_range=(2.0 / 3.0, 1.5), translate_range=0.2, seed=0))
