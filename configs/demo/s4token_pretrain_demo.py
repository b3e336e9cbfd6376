# Demo-size S4Token pre-training on the synthetic ScanNet-format pairs of `make demo-s4token`: tiny
# RANDOM CLIP ViT (TINY_VIT_CLIP_CFG: 64 wide, 2 blocks), 64 tokens of 16 points, 2-layer decoder.
# The random CLIP gives meaningless targets: the demo shows that the chain runs and the losses fall.
#   python tools/make_random_clip.py data/demo_clip/tiny_vit_clip.pt --model-cfg tiny_vit
#   python tools/train.py configs/demo/s4token_pretrain_demo.py
_base_ = ["../s4token/pretrain_scannet_pairs.py", "../_base_/models/tiny_random_clip.py"]

data_root = "data/demo"
clip_weights = {{_base_.tiny_vit_clip_weights}}
tiny_clip_cfg = {{_base_.tiny_vit_clip_cfg}}
clip_width = 64
max_epochs = 10

train_dataloader = dict(batch_size=4, num_workers=1, persistent_workers=True,
                        dataset=dict(data_root=data_root, voxel_size=0.05, max_points=4000))
model = dict(
    tokenizer=dict(num_tokens=64, patch_size=16, embed_dim=clip_width, pointnet_hidden=(32, 64)),
    encoder=dict(model_cfg=tiny_clip_cfg, weights=clip_weights),
    image_encoder=dict(model_cfg=tiny_clip_cfg, weights=clip_weights),
    decoder=dict(depth=2, num_heads=4),
    num_prototypes=16, proto_dim=32, head_hidden=64,
    momentum=0.99, momentum_iters=None,
)
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.05))
param_scheduler = [dict(type="ConstantLR", factor=1.0, by_epoch=False)]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=2), checkpoint=dict(interval=5, max_keep_ckpts=1))
log_processor = dict(window_size=2)
