# Demo-size Text4Point semantic segmentation on the synthetic ScanNet scenes of `make demo`
# (20 classes): a tiny Text4PointSRUNet (embed_dim 32) + linear classifier, prompt learner over a
# tiny RANDOM CLIP, auxiliary text loss; backbone from the demo pretraining run. Prepare with
#   python tools/make_random_clip.py data/demo_clip/tiny_rn_clip.pt --model-cfg tiny
#   python tools/train.py configs/demo/text4point_pretrain_demo.py
#   python tools/train.py configs/demo/text4point_seg_demo.py
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/scannet_seg.py",
    "../_base_/models/tiny_random_clip.py",
]

data_root = "data/demo"
pretrained = "work_dirs/text4point_pretrain_demo/epoch_10.pth"
pretrain_config = "configs/demo/text4point_pretrain_demo.py"
clip_weights = {{_base_.tiny_clip_weights}}
tiny_clip_cfg = {{_base_.tiny_clip_cfg}}  # TINY_RN_CLIP_CFG
text_class_names = (
    "wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf",
    "picture", "counter", "desk", "curtain", "refrigerator", "shower curtain", "toilet", "sink",
    "bathtub", "other furniture",
)
num_points = 10000
voxel_size = 0.05
max_epochs = 40

train_pipeline = [dict(type="PointSample", num_points=num_points), *_base_.train_augment,
                  *_base_.point_features, dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
train_dataloader = dict(batch_size=4, num_workers=1, persistent_workers=True,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=2, num_workers=1, persistent_workers=True, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

model = dict(
    type="SparseSegmentor",
    num_classes=20,
    backbone=dict(
        type="Text4PointSRUNet", in_channels=4, out_channels=64, arch="tiny", embed_dim=32,
        init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone.", producer=pretrain_config)),
    text=dict(type="PromptLearner", class_names=text_class_names, n_ctx=8,
              text_encoder=dict(type="CLIPTextEncoder", model_name="RN50", model_cfg=tiny_clip_cfg,
                                weights=clip_weights)),
    aux_loss=dict(weight=1.0, tau=0.07),
)

# App. B.1 uses SGD lr 0.1, poly 0.9, wd 1e-4 (60k iterations, batch 48); the demo keeps that
# recipe at a short schedule.
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="SGD", lr=0.1, momentum=0.9, weight_decay=1e-4),
                     clip_grad=dict(max_norm=10.0))
param_scheduler = [dict(type="PolyLR", power=0.9, eta_min=1e-4, by_epoch=True, begin=0, end=max_epochs,
                        convert_to_iter_based=True)]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
default_hooks = dict(logger=dict(type="LoggerHook", interval=5),
                     checkpoint=dict(type="CheckpointHook", interval=10, max_keep_ckpts=2, save_best="mIoU",
                                     rule="greater"))
