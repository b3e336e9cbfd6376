# Concept alignment distillation, ModelNet40 classification from the ScanNet-pretrained point
# transformer (paper Tab. 3: 93.0 % OA with voting; transformer from scratch 92.1 %). App. A: 1024 points,
# 64 groups of 32, the pretraining's 12 x 384 encoder, random scaling + translation, AdamW lr 5e-4,
# weight decay 0.05, 300 epochs, standard voting (test with cls_modelnet40_vote-style voting:
# model.test_cfg.votes=10). Not stated (Point-MAE's released recipe kept): cosine with 10 warm-up
# epochs, batch 32, head on [class token, max pool], grad clip 10.
#   python tools/train.py configs/concept_align/pretrain_scannet_pairs.py    # -> checkpoint below
#   python tools/train.py configs/concept_align/cls_modelnet40.py
_base_ = ["../pointmae/cls_modelnet40.py"]

pretrained = "work_dirs/pretrain_scannet_pairs/epoch_250.pth"
pretrain_config = "configs/concept_align/pretrain_scannet_pairs.py"
model = dict(pretrained=dict(checkpoint=pretrained, producer=pretrain_config,
                             parts={"tokenizer": "tokenizer.", "encoder": "encoder."}))
