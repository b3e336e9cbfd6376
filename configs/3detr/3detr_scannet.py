# 3DETR on ScanNet v2 (Misra et al., ICCV 2021; published 62.1 mAP@0.25 / 37.9 mAP@0.5).
# Published settings (3DETR repo, ScanNet command): 40k points, xyz only, 2048 pre-encoder tokens,
# encoder 3 x 256 (4 heads, FFN 128, dropout 0.1, no positional embedding), decoder 8 x 256 (4 heads,
# FFN 256), 256 queries, prediction-MLP dropout 0.3; matcher cls 1 / giou 2 / center 0 / objectness 0;
# losses cls 1 (no-object 0.25), center 5, size 1, giou 1, angle 0.1 / 0.5; AdamW lr 5e-4,
# weight decay 0.1, 9 warm-up epochs from 1e-6, cosine to 1e-6, 1080 epochs, batch 8, grad-norm clip 0.1.
# Differences: the pre-encoder is the Point-MAE tokenizer (kNN patches, 64 points) instead of a
# PointNet++ set abstraction (ball query r=0.2, 64 points); no random-cuboid augmentation.
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/scannet_det.py",
]

max_epochs = 1080
warmup_epochs = 9
num_classes = 18

model = dict(
    type="ThreeDETR",
    use_point_feats=False,
    encoder_pos=False,
    tokenizer=dict(type="PointTokenizer", num_tokens=2048, patch_size=64, embed_dim=256,
                   pointnet_hidden=(128, 256)),
    encoder=dict(type="PointTransformerEncoder", embed_dim=256, depth=3, num_heads=4, mlp_ratio=0.5,
                 qkv_bias=True, drop_rate=0.1, drop_path_rate=0.0),
    head=dict(
        type="DETR3DHead",
        num_classes=num_classes,
        in_channels=256,
        dim=256,
        num_queries=256,
        num_decoder_layers=8,
        num_heads=4,
        ffn_dim=256,
        dropout=0.1,
        num_angle_bins=1,  # ScanNet boxes are axis-aligned
        mlp_hidden=256,
        mlp_dropout=0.3,
        matcher=dict(cls=1.0, objectness=0.0, center=0.0, giou=2.0),
        loss_weights=dict(cls=1.0, no_object=0.25, center=5.0, size=1.0, giou=1.0, angle_cls=0.1, angle_reg=0.5),
        test_cfg=dict(score_thr=0.05, nms_iou=0.25, per_class_proposal=True, max_per_scene=256),
    ),
)

train_dataloader = dict(batch_size=8)
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=5e-4, weight_decay=0.1),
                     clip_grad=dict(max_norm=0.1))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6 / 5e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, end=max_epochs,
         T_max=max_epochs - warmup_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
