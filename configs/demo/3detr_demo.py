# Demo-size 3DETR: tiny widths, 8k points, short schedule; trains on the synthetic ScanNet-format scenes
# (tools/make_demo_data.py + tools/prepare_scannet.py -> data/demo) in minutes on CPU.
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/scannet_det.py",
]

data_root = "data/demo"
num_points = 8000
voxel_size = 0.05
max_epochs = 100

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

model = dict(
    type="ThreeDETR",
    use_point_feats=False,
    encoder_pos=False,
    tokenizer=dict(type="PointTokenizer", num_tokens=256, patch_size=32, embed_dim=64, pointnet_hidden=(32, 64)),
    encoder=dict(type="PointTransformerEncoder", embed_dim=64, depth=2, num_heads=4, mlp_ratio=2.0,
                 qkv_bias=True, drop_rate=0.0, drop_path_rate=0.0),
    head=dict(type="DETR3DHead", num_classes=18, in_channels=64, dim=64, num_queries=64, num_decoder_layers=3,
              num_heads=4, ffn_dim=128, dropout=0.0, num_angle_bins=1, mlp_hidden=64, mlp_dropout=0.1,
              matcher=dict(cls=1.0, objectness=0.0, center=0.0, giou=2.0),
              loss_weights=dict(cls=1.0, no_object=0.25, center=5.0, size=1.0, giou=1.0),
              test_cfg=dict(score_thr=0.01, nms_iou=0.25, per_class_proposal=True, max_per_scene=128)),
)

optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=1e-3, weight_decay=0.01),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=2, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=2, end=max_epochs, T_max=max_epochs - 2,
         eta_min=1e-5, convert_to_iter_based=True),
]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
default_hooks = dict(logger=dict(type="LoggerHook", interval=5),
                     checkpoint=dict(type="CheckpointHook", interval=10, max_keep_ckpts=2,
                                     save_best="mAP@0.5", rule="greater"))
