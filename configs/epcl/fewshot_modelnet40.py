# EPCL few-shot ModelNet40 (paper Tab. 3: 5w10s 95.1+-2.7, 5w20s 97.3+-1.6, 10w10s 91.1+-4.2,
# 10w20s 93.5+-3.8, 30w10s 81.7+-0.7; no 3D pretraining: the frozen CLIP is the prior). One fold per
# run; tools/few_shot.py runs the 10 folds of a setting (see configs/mmpd/fewshot_modelnet40.py).
# Not stated in the paper: the few-shot schedule; the Point-MAE / ReCon few-shot recipe (150 epochs,
# 10 warm-up, batch 32) with EPCL's optimiser (AdamW 3e-4, weight decay 0.04).
_base_ = ["./cls_modelnet40.py"]

max_epochs = 150
few_shot_file = "data/fewshot/5way_10shot.json"
fold = 0
train_dataloader = dict(dataset=dict(few_shot=dict(file=few_shot_file, fold=fold)))
val_dataloader = dict(dataset=dict(few_shot=dict(file=few_shot_file, fold=fold)))
test_dataloader = val_dataloader
model = dict(num_classes=5, text_loss_weight=0.0)  # fold class names change per fold: cross-entropy only
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6 / 3e-4, by_epoch=True, begin=0, end=10),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=10, end=max_epochs, T_max=max_epochs - 10, eta_min=5e-7),
]
train_cfg = dict(max_epochs=max_epochs)
