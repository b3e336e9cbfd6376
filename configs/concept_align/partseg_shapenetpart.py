# Concept alignment distillation, ShapeNetPart part segmentation from the ScanNet-pretrained point
# transformer (paper Tab. 4: 85.9 instance mIoU; transformer from scratch 85.1, Point-MAE ShapeNet 86.1).
# App. A: 2048 points, 128 patches of 32, features of the 4th / 8th / last blocks concatenated, average +
# max pooled global features, PointNet++ feature-propagation decoder, 300 epochs, base lr 2e-4: Point-MAE's
# segmentation recipe (configs/pointmae/partseg_shapenetpart.py), which it follows for everything unstated.
#   python tools/train.py configs/concept_align/pretrain_scannet_pairs.py    # -> checkpoint below
#   python tools/train.py configs/concept_align/partseg_shapenetpart.py
_base_ = ["../pointmae/partseg_shapenetpart.py"]

pretrained = "work_dirs/pretrain_scannet_pairs/epoch_250.pth"
pretrain_config = "configs/concept_align/pretrain_scannet_pairs.py"
model = dict(pretrained=dict(checkpoint=pretrained, producer=pretrain_config,
                             parts={"tokenizer": "tokenizer.", "encoder": "encoder."}))
