# S4Token zero-shot classification of ScanObjectNN (15 classes; the PB_T50_RS test split by default,
# OBJ_BG / OBJ_ONLY by pointing data_root at their caches): as zeroshot_cls_modelnet40.py, with the
# 2048 stored points and 128 tokens of 32 (Point-MAE's ScanObjectNN setting).
#   python tools/prepare_objects.py scanobjectnn data/ScanObjectNN/h5_files data/scanobjectnn_pb_t50_rs \
#       --variant PB_T50_RS
#   python tools/test.py configs/s4token/zeroshot_cls_scanobjectnn.py work_dirs/pretrain_scannet_pairs/epoch_100.pth
_base_ = ["./zeroshot_cls_modelnet40.py"]

data_root = "data/scanobjectnn_pb_t50_rs"
num_points = 2048
fps_pool = 2400
test_pipeline = [dict(type="FPSSample", num_points=num_points), dict(type="PointFeatures", keys=("points",)),
                 dict(type="Voxelize", voxel_size=0.05), dict(type="PackInputs")]
test_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline))
val_dataloader = test_dataloader
model = dict(tokenizer=dict(num_tokens=128))
