# Demo-size MMPD stage 2 on the synthetic frames: student and frozen teacher from the demo stage-1
# checkpoint (work_dirs/mmpd_stage1_demo/epoch_20.pth; `make demo-mmpd` passes the one it wrote).
_base_ = ["../mmpd/stage2_scannet_pairs.py", "../_base_/models/mmpd_demo_student.py"]

pairs_root = "data/demo"
max_epochs = 20
global_dim = 32
stage1_config = "configs/demo/mmpd_stage1_demo.py"
stage1_checkpoint = "work_dirs/mmpd_stage1_demo/epoch_20.pth"
train_dataloader = dict(batch_size=8, num_workers=1, persistent_workers=True,
                        dataset=dict(data_root=pairs_root, voxel_size=0.05, num_points=2048))
model = dict(
    tokenizer={{_base_.demo_tokenizer}}, encoder={{_base_.demo_encoder}},
    teacher=dict(tokenizer={{_base_.demo_tokenizer}}, encoder={{_base_.demo_encoder}}, global_dim=global_dim,
                 checkpoint=stage1_checkpoint, producer=stage1_config),
    decoder=dict(embed_dim=64, depth=1, num_heads=4, mlp_ratio=2.0, qkv_bias=True, drop_path_rate=0.0),
    global_decoder=dict(embed_dim=64, depth=1, num_heads=4, mlp_ratio=2.0),
    pretrained=dict(checkpoint=stage1_checkpoint, producer=stage1_config),
)
param_scheduler = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=2, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=2, end=max_epochs, T_max=max_epochs - 2, eta_min=1e-5,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
