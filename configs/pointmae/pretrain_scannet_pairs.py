# Point-MAE pretraining (Pang et al., ECCV 2022) on ScanNet frames: the baseline of the transformer
# papers and the masked-modelling base of MMPD stage 2.
# Published (Point-MAE cfgs/pretrain.yaml): 12-block encoder, 384 wide, 6 heads, drop path 0.1;
# 4-block decoder, 6 heads; random masking of 60% of the patches; Chamfer-L2 on the masked patches;
# AdamW lr 1e-3, weight decay 0.05, cosine over 300 epochs after 10 warm-up epochs; batch 128;
# 64 patches x 32 points of 1024-point objects.
# Scene frames (open; docs/mmpd.md): 16384 points per frame (2.5 cm voxel centres), 512 patches x 32
# points (the same 32-point patches, 8x the patches for 16x the points of an object), batch 128 =
# 32 per process x 4 processes.
# Run:  torchrun --nproc_per_node 4 tools/train.py configs/pointmae/pretrain_scannet_pairs.py --launcher pytorch
# -> work_dirs/pretrain_scannet_pairs/epoch_300.pth; its tokenizer.* / encoder.* initialise 3DETR
#    (configs/mmpd/3detr_scannet.py with model.pretrained.checkpoint=... and producer=this file).
_base_ = ["../_base_/default_runtime.py", "../_base_/datasets/scannet_point_pairs.py"]

max_epochs = 300
warmup_epochs = 10
embed_dim = 384

model = dict(
    type="PointMAEPretrainer",
    tokenizer=dict(type="PointTokenizer", num_tokens=512, patch_size=32, embed_dim=embed_dim,
                   pointnet_hidden=(128, 256)),
    encoder=dict(type="PointTransformerEncoder", embed_dim=embed_dim, depth=12, num_heads=6, mlp_ratio=4.0,
                 qkv_bias=False, drop_rate=0.0, drop_path_rate=0.1),
    decoder=dict(type="PointTransformerEncoder", embed_dim=embed_dim, depth=4, num_heads=6, mlp_ratio=4.0,
                 qkv_bias=False, drop_rate=0.0, drop_path_rate=0.1),
    mask_ratio=0.6,
)

optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=1e-3, weight_decay=0.05))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6 / 1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, end=max_epochs,
         T_max=max_epochs - warmup_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs)
default_hooks = dict(logger=dict(type="LoggerHook", interval=20),
                     checkpoint=dict(type="CheckpointHook", interval=10, max_keep_ckpts=2, save_best=None))
auto_scale_lr = dict(enable=False, base_batch_size=128)
