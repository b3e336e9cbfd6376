# Semantic segmentation baseline: SR-UNet34C (Res16UNet34C) + a linear classifier per voxel on
# S3DIS Area 5 (Text4Point Tab. 1 "SR-UNet": 68.2 mIoU / 75.5 mAcc published), trained from
# scratch with the App. B.1 recipe: 5 cm voxels, SGD lr 0.1 momentum 0.9, weight decay 1e-4,
# poly decay (power 0.9) over 60k iterations, batch 48 = 12 per process x 4 processes:
#   torchrun --nproc_per_node 4 tools/train.py configs/seg/seg_srunet34c_s3dis.py --launcher pytorch
#   python tools/test.py configs/seg/seg_srunet34c_s3dis.py work_dirs/seg_srunet34c_s3dis/best_mIoU_iter_*.pth
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/s3dis_seg.py",
]

max_iters = 60000
val_interval = 2000

model = dict(
    type="SparseSegmentor",
    num_classes=13,
    # in_channels 4 = normalised rgb + height, as the Text4Point pretraining backbone
    backbone=dict(type="SRUNet", in_channels=4, out_channels=96, arch="34C"),
)

optim_wrapper = dict(type="OptimWrapper",
                     optimizer=dict(type="SGD", lr=0.1, momentum=0.9, weight_decay=1e-4),
                     clip_grad=dict(max_norm=10.0))
param_scheduler = [dict(type="PolyLR", power=0.9, eta_min=0.0, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(type="IterBasedTrainLoop", max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
default_hooks = dict(
    logger=dict(type="LoggerHook", interval=50),
    checkpoint=dict(type="CheckpointHook", by_epoch=False, interval=val_interval, max_keep_ckpts=2,
                    save_best="mIoU", rule="greater"),
)
log_processor = dict(by_epoch=False)
# The published batch is 48: 12 per process x 4 processes (torchrun --nproc_per_node 4).
auto_scale_lr = dict(enable=False, base_batch_size=48)
