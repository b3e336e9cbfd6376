# VoteNet on SR-UNet34C, SUN RGB-D v1 (10 classes, oriented boxes), trained from scratch
# (Text4Point's SUN RGB-D VoteNet* baseline). 20k points, 2.5 cm voxels, +-30 deg rotation, scale
# 0.85-1.15, x flip, 12 heading bins, 10 size clusters (one per class), 180 epochs.
# Batch 64 in total: 16 per process x 4 processes
#   torchrun --nproc_per_node 4 tools/train.py configs/votenet/votenet_srunet34c_sunrgbd.py --launcher pytorch
# (with fewer processes raise train_dataloader.batch_size so the product stays 64).
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/sunrgbd_det.py",
    "../_base_/models/votenet_srunet34c.py",
    "../_base_/schedules/adam_cosine_180e.py",
]

# NMS on the axis-aligned boxes enclosing the rotated ones, as VoteNet's parse_predictions
model = dict(head=dict(num_classes=10, num_heading_bins=12,
                       test_cfg=dict(nms_iou=0.25, score_thr=0.05, per_class_proposal=True, nms_axis_aligned=True)))
train_dataloader = dict(batch_size=16)
auto_scale_lr = dict(enable=False, base_batch_size=64)
