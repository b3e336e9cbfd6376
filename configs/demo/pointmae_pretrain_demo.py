# Demo-size Point-MAE pretraining on the synthetic ScanNet-format frames (data/demo: prepared
# scenes + pairs, as `make demo-mmpd` writes them): 2048-point frames, 64 patches x 32 points,
# the demo student (64 wide, 2 blocks), a 1-block decoder; 20 epochs on 2 CPU cores.
_base_ = ["../pointmae/pretrain_scannet_pairs.py", "../_base_/models/mmpd_demo_student.py"]

pairs_root = "data/demo"
max_epochs = 20
train_dataloader = dict(batch_size=8, num_workers=1, persistent_workers=True,
                        dataset=dict(data_root=pairs_root, voxel_size=0.05, num_points=2048))
model = dict(tokenizer={{_base_.demo_tokenizer}}, encoder={{_base_.demo_encoder}},
             decoder=dict(embed_dim=64, depth=1, num_heads=4, mlp_ratio=2.0, qkv_bias=True, drop_path_rate=0.0))
param_scheduler = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=2, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=2, end=max_epochs, T_max=max_epochs - 2, eta_min=1e-5,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
