# VoteNet on SR-UNet34C, ScanNet v2, trained from scratch (Text4Point Tab. 4 baseline "VoteNet*":
# 35.4 mAP@0.5; 39.7 with Text4Point pretraining). 40k points, 2.5 cm voxels, batch 32.
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/scannet_det.py",
    "../_base_/models/votenet_srunet34c.py",
    "../_base_/schedules/adam_cosine_180e.py",
]
