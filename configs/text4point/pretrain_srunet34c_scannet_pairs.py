# Text4Point pre-training (paper Sec. 3.3, 4.1, App. C) on ScanNet 2D-3D pairs: frozen CLIP RN50
# dense image encoder + fixed prompts "point cloud of {}." over the 20 ScanNet benchmark classes,
# randomly initialised Text4PointSRUNet 34C (TQM between encoder and decoder), 2D decoder with the
# auxiliary depth loss. 240x320 images, 2.5 cm voxels, tau 0.4, 2 cm correspondence tolerance,
# momentum SGD lr 0.1, exponential decay 0.99, 2 epochs, batch 32 (8 per process x 4 processes).
#
# Data: python tools/extract_scannet_pairs.py RAW_ROOT data/scannet --frame-skip 25   (pairs/)
#       next to python tools/prepare_scannet.py RAW_ROOT data/scannet                (splits/)
# CLIP: OpenAI RN50 weights at checkpoints/clip/RN50-openai.pt (docs/text4point.md).
# Run:  torchrun --nproc_per_node 4 tools/train.py configs/text4point/pretrain_srunet34c_scannet_pairs.py --launcher pytorch
# -> work_dirs/pretrain_srunet34c_scannet_pairs/epoch_2.pth; its `backbone.*` keys initialise the
#    fine-tuning configs (configs/text4point/votenet_*.py).
#
# Choices the paper leaves open (docs/text4point.md, "Pretraining"):
# - "exponential scheduler with a power factor of 0.99": PointContrast's ScanNet recipe, whose
#   other settings (lr 0.1, batch 32, 2.5 cm, tau 0.4, 4096 pairs) the paper shares, multiplies the
#   lr by 0.99 every 250 iterations (ExponentialLR stepped each `lr_update_freq`). Per iteration
#   would drive the lr to ~0 within 2 epochs (~6k iterations); per epoch would be a no-op.
#   StepLR(step_size=250, gamma=0.99, by_epoch=False) is exactly that schedule.
# - SGD momentum 0.9, weight decay 1e-4 (PointContrast); augmentation: free rotation about z,
#   x/y mirrors, scale 0.9-1.1 (PointContrast free_rot, scale 0.9-1.1); train split only.
# - point features: colour (VoteNet's ScanNet normalisation) + height, C=4, as the SR-UNet
#   detection configs take, so the stem weights transfer.
_base_ = ["../_base_/default_runtime.py"]

# The new modules are not imported by their packages' __init__ yet; import them explicitly.
data_root = "data/scannet"
clip_weights = "checkpoints/clip/RN50-openai.pt"
voxel_size = 0.025
max_epochs = 2
# The 20 ScanNet benchmark classes (voxclip.classes.SCANNET_SEG_CLASSES, same order) as prompt
# words: the raw label spellings "showercurtrain" / "otherfurniture" written as words.
text_class_names = (
    "wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf",
    "picture", "counter", "desk", "curtain", "refrigerator", "shower curtain", "toilet", "sink",
    "bathtub", "other furniture",
)

train_dataloader = dict(
    batch_size=8,  # per process; 4 processes -> the published 32
    num_workers=6,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=True),
    collate_fn=dict(type="rgbd_pairs_collate"),
    dataset=dict(type="RGBDPairs", data_root=data_root, split="train", voxel_size=voxel_size,
                 rotate_z=180.0, flip_x=0.5, flip_y=0.5, scale_range=(0.9, 1.1), color_jitter=0.0,
                 point_features=("color", "height"), color_mean=(109.8, 97.2, 83.8), color_std=256.0),
)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

model = dict(
    type="Text4PointPretrainer",
    # first-layer kernel 3 as PointContrast's recipe (net.conv1_kernel_size=3); 5 = MinkowskiEngine default
    backbone=dict(type="Text4PointSRUNet", in_channels=4, out_channels=96, arch="34C", embed_dim=1024,
                  conv0_kernel_size=3),
    image_encoder=dict(type="CLIPDenseImageEncoder", model_name="RN50", weights=clip_weights),
    text=dict(type="FixedPrompts", class_names=text_class_names, template="point cloud of {}.",
              text_encoder=dict(type="CLIPTextEncoder", model_name="RN50", weights=clip_weights)),
    decoder2d=dict(type="Text4PointDecoder2D", channels=(256, 256, 128, 128, 96, 96)),
    depth_head=dict(type="Text4PointDepthHead", hidden=32),
    tau=0.4,
    corr_tol=0.02,
    max_pairs=4096,
    feature_stride=32,
    loss_weights=dict(enc=1.0, dec=1.0, depth=1.0),
)

optim_wrapper = dict(type="OptimWrapper",
                     optimizer=dict(type="SGD", lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type="StepLR", by_epoch=False, step_size=250, gamma=0.99)]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(type="LoggerHook", interval=20),
    checkpoint=dict(type="CheckpointHook", interval=1, max_keep_ckpts=2, save_best=None),
)
log_processor = dict(by_epoch=True, window_size=20)
auto_scale_lr = dict(enable=False, base_batch_size=32)
