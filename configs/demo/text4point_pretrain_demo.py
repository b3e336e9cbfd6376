# Demo-size Text4Point pre-training on the synthetic ScanNet-format scenes (tiny SR-UNet, tiny
# RANDOM CLIP, 5 cm voxels, 10 epochs); a few minutes on 2 CPU cores. Its epoch_10.pth initialises
# the demo fine-tuning config (configs/demo/text4point_votenet_demo.py). Prepare with
#   python tools/make_demo_data.py data/demo_raw                      # 48 scenes, 10 frames each
#   python tools/prepare_scannet.py data/demo_raw data/demo                 # splits/
#   python tools/extract_scannet_pairs.py data/demo_raw data/demo --frame-skip 10
#   python tools/make_random_clip.py data/demo_clip/tiny_rn_clip.pt --model-cfg tiny
#   python tools/train.py configs/demo/text4point_pretrain_demo.py
# The random CLIP gives meaningless targets: the demo shows that the pipeline runs and the losses
# fall, not a useful pretrained model.
_base_ = ["../text4point/pretrain_srunet34c_scannet_pairs.py", "../_base_/models/tiny_random_clip.py"]

data_root = "data/demo"  # pairs next to the prepared scenes: splits/train.txt selects the scenes
clip_weights = {{_base_.tiny_clip_weights}}
voxel_size = 0.05
max_epochs = 10
tiny_clip_cfg = {{_base_.tiny_clip_cfg}}  # TINY_RN_CLIP_CFG

train_dataloader = dict(
    batch_size=4, num_workers=1, persistent_workers=True,
    dataset=dict(data_root=data_root, split="train", voxel_size=voxel_size, max_points=20000),
)

model = dict(
    # first conv 5 like the demo fine-tuning backbones (the paper configs use 3 on both sides)
    backbone=dict(in_channels=4, out_channels=64, arch="tiny", embed_dim=32, conv0_kernel_size=5),
    image_encoder=dict(model_name="RN50", model_cfg=tiny_clip_cfg, weights=clip_weights),
    text=dict(text_encoder=dict(model_name="RN50", model_cfg=tiny_clip_cfg, weights=clip_weights)),
    decoder2d=dict(channels=(32, 32, 16, 16, 16, 16)),
    depth_head=dict(hidden=16),
    corr_tol=0.04,  # 5 cm voxels: a centre is up to 2.5 cm off the surface along the ray
    max_pairs=1024,
)

optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [dict(type="StepLR", by_epoch=False, step_size=25, gamma=0.99)]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=5, max_keep_ckpts=2))
log_processor = dict(window_size=5)
