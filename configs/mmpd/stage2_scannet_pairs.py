# MMPD stage 2 (Sec. 4.2, Eq. 4-6) on ScanNet frames: the student starts from the stage-1
# checkpoint; the stage-1 model (tokenizer, encoder, global head) is the frozen teacher. 60% of
# the patches are masked; visible + mask tokens are shuffled, positional embeddings added after the
# shuffle, and the decoder predicts every stage-1 token feature of the full cloud (local, negative
# cosine); a global decoder on the visible tokens (no shuffle, no positions) predicts the stage-1
# global embedding (negative cosine). L = L_local + L_global.
# Decoder: Point-MAE's (4 blocks, 384, 6 heads); global decoder: 1 block without positions + the
# max/mean pooling head (open: "transformer blocks or MLP"). Optimiser and schedule: Point-MAE's
# (AdamW 1e-3, wd 0.05, cosine, 300 epochs, 10 warm-up). Switches: model.shuffle=False,
# model.loss_weights.global_embed=0 (local only), model.loss_weights.local=0 (global only); single
# teacher = a stage-1 run with model.use_teachers=[text,clip_image] as stage1_checkpoint.
# Run:  torchrun --nproc_per_node 4 tools/train.py configs/mmpd/stage2_scannet_pairs.py --launcher pytorch
_base_ = ["../_base_/default_runtime.py", "../_base_/datasets/scannet_point_pairs.py"]

max_epochs = 300
warmup_epochs = 10
embed_dim = 384
global_dim = 512
stage1_config = "configs/mmpd/stage1_scannet_pairs.py"
stage1_checkpoint = "work_dirs/stage1_scannet_pairs/epoch_100.pth"
tokenizer = dict(type="PointTokenizer", num_tokens=512, patch_size=32, embed_dim=embed_dim, pointnet_hidden=(128, 256))
encoder = dict(type="PointTransformerEncoder", embed_dim=embed_dim, depth=12, num_heads=6, mlp_ratio=4.0,
               qkv_bias=False, drop_rate=0.0, drop_path_rate=0.1)

model = dict(
    type="MMPDStage2",
    tokenizer=tokenizer,
    encoder=encoder,
    teacher=dict(type="Stage1Teacher", tokenizer=tokenizer, encoder=encoder, global_dim=global_dim,
                 checkpoint=stage1_checkpoint, producer=stage1_config),
    decoder=dict(type="PointTransformerEncoder", embed_dim=embed_dim, depth=4, num_heads=6, mlp_ratio=4.0,
                 qkv_bias=False, drop_rate=0.0, drop_path_rate=0.1),
    global_decoder=dict(type="PointTransformerEncoder", embed_dim=embed_dim, depth=1, num_heads=6,
                        mlp_ratio=4.0, drop_path_rate=0.0),
    mask_ratio=0.6,
    shuffle=True,
    loss_weights=dict(local=1.0, global_embed=1.0),
    pretrained=dict(checkpoint=stage1_checkpoint, producer=stage1_config),
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
