# ScanNet v2 semantic segmentation (20 classes) with the concept-alignment pretrained point
# transformer (paper Sec. 4.2.2, Tab. 2 "Distillation": 46.4 mIoU; Transformer-DGCNN from scratch
# 37.0; Point-MAE 45.4; App. A.2): 8192 points, 256 FPS patches x 32 kNN points, the 12 x 384
# encoder, then DGCNN-style upsampling: every point takes its 3 nearest patch centres' features
# (inverse-distance weights), concatenated with its own features (xyz, colour, height), and two 1D
# conv blocks give the logits (conv+BN+ReLU 391 -> 256, dropout 0.5, conv 256 -> 20). Adam lr 1e-3,
# weight decay 0.01, 200 epochs. Evaluation is on every point of each val scene: 8192 of its points
# (fixed seed) are tokenised, the logits reach all points through the same interpolation.
#   python tools/train.py configs/concept_align/pretrain_scannet_pairs.py    # -> pretrained below
#   python tools/train.py configs/concept_align/seg_scannet.py
# Open choices (docs/concept_align.md): cosine schedule (the paper names none), batch 32 (8 x 4),
# point features colour + height as the other ScanNet segmentation configs.
_base_ = ["../_base_/default_runtime.py", "../_base_/datasets/scannet_seg.py"]

num_points = 8192
voxel_size = 0.05  # unused by the token model; keeps the shared batch contract
max_epochs = 200
embed_dim = 384
pretrained = "work_dirs/pretrain_scannet_pairs/epoch_250.pth"
pretrain_config = "configs/concept_align/pretrain_scannet_pairs.py"

train_pipeline = [dict(type="PointSample", num_points=num_points), *_base_.train_augment, *_base_.point_features,
                  dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
test_pipeline = [*_base_.point_features, dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(
    type="TokenSegmentor",
    num_classes=20,
    tokenizer=dict(type="PointTokenizer", num_tokens=256, patch_size=32, embed_dim=embed_dim,
                   pointnet_hidden=(128, 256)),
    encoder=dict(type="PointTransformerEncoder", embed_dim=embed_dim, depth=12, num_heads=6, mlp_ratio=4.0,
                 qkv_bias=False, drop_path_rate=0.1, pos_every_block=True),
    head=dict(type="TokenSegHead", in_channels=embed_dim, skip_channels=[3 + 4], fp_channels=[()],
              head_channels=(256,), dropout=0.5),
    tokenizer_feats=False,  # the pretrained tokenizer sees xyz only
    skip_xyz=True, skip_feats=True,
    token_points=num_points,
    pretrained=dict(checkpoint=pretrained, producer=pretrain_config),
)

optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-3, weight_decay=0.01))
param_scheduler = [dict(type="CosineAnnealingLR", by_epoch=True, begin=0, end=max_epochs, T_max=max_epochs,
                        eta_min=1e-6, convert_to_iter_based=True)]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
default_hooks = dict(checkpoint=dict(type="CheckpointHook", interval=10, max_keep_ckpts=2, save_best="mIoU",
                                     rule="greater"))
auto_scale_lr = dict(enable=False, base_batch_size=32)
