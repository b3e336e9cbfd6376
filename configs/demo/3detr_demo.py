# Demo-size 3DETR on the synthetic ScanNet-format scenes (tools/make_demo_data.py +
# tools/prepare_scannet.py -> data/demo): the released architecture (PointNet++ set-abstraction
# pre-encoder, pre-norm ReLU encoder without final norm, conv-BN projection, metric centre offsets,
# parse_predictions evaluation) at CPU widths, 8k points, short schedule. Demo choices (not 3DETR's):
# widths 128, 256 tokens (radius 0.4 m, 16 samples, MLP 32-64-128), 64 queries, 4 decoder layers, no dropout,
# matcher centre cost 5 (3DETR's SUN RGB-D setting; speeds up matching early on), lr 1e-3, no random
# cuboid. Figures: docs/benchmarks.md.
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/scannet_det.py",
]

data_root = "data/demo"
num_points = 8000
voxel_size = 0.05
max_epochs = 60

train_pipeline = [
    dict(type="PointSample", num_points=num_points),
    dict(type="RandomFlip", prob_x=0.5, prob_y=0.5, heading=False),
    dict(type="RandomRotateZ", degrees=5.0, box_mode="enclose"),
    *_base_.point_features,
    dict(type="Voxelize", voxel_size=voxel_size),  # unused by 3DETR; keeps the shared batch contract
    dict(type="PackInputs"),
]
test_pipeline = [dict(type="PointSample", num_points=num_points), *_base_.point_features,
                 dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
train_dataloader = dict(batch_size=4, num_workers=1, persistent_workers=True,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=2, num_workers=1, persistent_workers=True,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

width = 128
model = dict(
    type="ThreeDETR",
    use_point_feats=False,
    encoder_pos=False,
    tokenizer=dict(type="SetAbstractionTokenizer", num_tokens=256, radius=0.4, num_samples=16, mlp=(32, 64),
                   embed_dim=width),
    encoder=dict(type="PointTransformerEncoder", embed_dim=width, depth=3, num_heads=4, mlp_ratio=1.0,
                 qkv_bias=True, drop_rate=0.0, attn_drop_rate=0.0, drop_path_rate=0.0, final_norm=False,
                 act="relu", init="xavier_uniform"),
    head=dict(type="DETR3DHead", num_classes=18, in_channels=width, dim=width, num_queries=64, num_decoder_layers=4,
              num_heads=4, ffn_dim=width, dropout=0.0, num_angle_bins=1, mlp_hidden=width, mlp_dropout=0.0,
              matcher=dict(cls=1.0, objectness=0.0, center=5.0, giou=2.0),
              loss_weights=dict(cls=1.0, no_object=0.25, center=5.0, size=1.0, giou=1.0),
              test_cfg=dict(score_thr=0.05, nms_iou=0.25, per_class_proposal=True)),
)

optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=1e-3, weight_decay=0.01),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=2, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=2, end=max_epochs, T_max=max_epochs - 2,
         eta_min=1e-5, convert_to_iter_based=True),
]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=20)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
default_hooks = dict(logger=dict(type="LoggerHook", interval=9),
                     checkpoint=dict(type="CheckpointHook", interval=20, max_keep_ckpts=2,
                                     save_best="mAP@0.25", rule="greater"))
# tools/test.py prints this beside the result: the validation figures of 2 runs (seeds 0 and 1, 1 thread)
# on the `make demo` scenes (72 train / 48 val), 2026-12-01, docs/benchmarks.md "The 3DETR and EPCL
# demos". 3DETR localises loosely at this size (mAP@0.5 stays near 0.01): the range shows it learns.
expected_result = dict(ranges={"mAP@0.25": (0.15, 0.18), "mAP@0.5": (0.00, 0.02)},
                       measured="seeds 0-1 x 1 thread, 60 epochs, 2026-12-01, docs/benchmarks.md")
