# Multimodal masked point distillation, few-shot ModelNet40 (paper Tab. 1, Point-M2AE encoder:
# 5w10s 97.6+-1.7, 5w20s 99.0+-0.6, 10w10s 94.1+-3.0, 10w20s 96.2+-2.6; mean +- std over 10 folds, no
# voting). One fold of one setting per run; tools/few_shot.py runs the 10 folds of a setting and
# prints mean +- std:
#   python tools/few_shot.py folds data/modelnet40_prepared --way 5 --shot 10 --out data/fewshot/5way_10shot.json
#   python tools/few_shot.py run configs/mmpd/fewshot_modelnet40.py --folds data/fewshot/5way_10shot.json
# Recipe (ReCon's / Point-MAE's released cfgs/full/fewshot.yaml): AdamW lr 5e-4, weight decay 0.05,
# cosine 150 epochs with 10 warm-up, batch 32, 1024 points, 64 groups of 32, drop path 0.1, grad clip 10,
# scale-and-translate; test on the fold's 20 objects per class.
_base_ = ["../pointmae/cls_modelnet40.py"]

max_epochs = 150
few_shot_file = "data/fewshot/5way_10shot.json"
fold = 0
train_dataloader = dict(dataset=dict(few_shot=dict(file=few_shot_file, fold=fold)))
val_dataloader = dict(dataset=dict(few_shot=dict(file=few_shot_file, fold=fold)))
test_dataloader = val_dataloader

pretrained = "work_dirs/stage2_scannet_pairs/epoch_300.pth"
pretrain_config = "configs/mmpd/stage2_scannet_pairs.py"
model = dict(num_classes=5, pretrained=dict(checkpoint=pretrained, producer=pretrain_config))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6 / 5e-4, by_epoch=True, begin=0, end=10),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=10, end=max_epochs, T_max=max_epochs - 10, eta_min=1e-6),
]
train_cfg = dict(max_epochs=max_epochs)
