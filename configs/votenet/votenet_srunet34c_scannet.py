# VoteNet on SR-UNet34C, ScanNet v2, trained from scratch (Text4Point Tab. 4 baseline "VoteNet*":
# 35.4 mAP@0.5; 39.7 with Text4Point pretraining). 40k points, 2.5 cm voxels, batch 32.
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/scannet_det.py",
    "../_base_/schedules/adam_cosine_180e.py",
]

model = dict(
    type="VoteNetDetector",
    backbone=dict(type="SRUNet", in_channels=4, out_channels=96, arch="34C"),
    head=dict(
        type="VoteHead",
        num_classes=18,
        in_channels=96,
        mean_sizes="from_dataset",  # per-class mean box size over the train split (index.json)
        num_heading_bins=1,
        num_seeds=1024,
        num_proposals=256,
        agg_radius=0.3,
        agg_nsample=16,
        test_cfg=dict(nms_iou=0.25, score_thr=0.05, per_class_proposal=True),
    ),
)
