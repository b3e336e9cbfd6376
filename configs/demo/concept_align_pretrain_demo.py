# Demo-size concept-alignment pretraining on the synthetic ScanNet-format scenes: a tiny point
# transformer (32 tokens x 16 points, 4 x 64, 4 heads), 8 concept queries, the tiny RANDOM CLIP
# (embed_dim 32, 64 px) and a tiny RANDOM ClipCap MLP mapper (32 -> 4 x 16). Prepare with
#   python tools/make_demo_data.py data/demo_raw && python tools/prepare_scannet.py data/demo_raw data/demo
#   python tools/extract_scannet_pairs.py data/demo_raw data/demo --frame-skip 10
#   python tools/make_random_clip.py data/demo_clip/tiny_rn_clip.pt --model-cfg tiny
#   python tools/make_random_clipcap.py data/demo_clip/tiny_clipcap_mlp.pt
#   python tools/train.py configs/demo/concept_align_pretrain_demo.py
# The random teacher gives meaningless targets: the demo shows that the chain runs and the loss
# falls, not what the method gains. Its last checkpoint initialises configs/demo/concept_align_3detr_demo.py.
_base_ = ["../concept_align/pretrain_scannet_pairs.py", "../_base_/models/tiny_random_clip.py"]

data_root = "data/demo"
clip_weights = {{_base_.tiny_clip_weights}}
clipcap_weights = "data/demo_clip/tiny_clipcap_mlp.pt"
tiny_clip_cfg = {{_base_.tiny_clip_cfg}}  # TINY_RN_CLIP_CFG
max_epochs = 20
num_points = 1024
embed_dim = 64
prefix_length = 4
prefix_dim = 16

train_dataloader = dict(
    batch_size=4, num_workers=1, persistent_workers=True,
    dataset=dict(data_root=data_root, frame_stride=10, num_points=num_points, image_size=64, cache_dir=None,
                 target_shape=(prefix_length, prefix_dim)),
)

model = dict(
    tokenizer=dict(num_tokens=32, patch_size=16, embed_dim=embed_dim, pointnet_hidden=(32, 64)),
    encoder=dict(embed_dim=embed_dim, depth=4, num_heads=4, mlp_ratio=2.0, drop_path_rate=0.0),
    teacher=dict(
        image_encoder=dict(model_name="RN50", model_cfg=tiny_clip_cfg, weights=clip_weights),
        mapper=dict(checkpoint=clipcap_weights, clip_dim=32, prefix_dim=prefix_dim, prefix_length=prefix_length),
    ),
    target_shape=(prefix_length, prefix_dim),
    concept=dict(num_concepts=8),
)

param_scheduler = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=2, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=2, end=max_epochs, T_max=max_epochs - 2,
         eta_min=1e-5, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=5, max_keep_ckpts=2))
log_processor = dict(window_size=5)
