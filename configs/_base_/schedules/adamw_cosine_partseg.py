# Point-MAE's part segmentation schedule (segmentation/main.py; README: --learning_rate 0.0002 --epoch 300):
# AdamW lr 2e-4, weight decay 0.05 (none on biases and 1-D weights), batch 16, gradient-norm clip 10;
# timm CosineLRScheduler(t_initial=100, warmup_t=10, warmup_lr_init=1e-6, lr_min=1e-6, cycle_limit=1)
# stepped per epoch: the cosine ends at epoch 100 and the remaining 200 of the 300 epochs run at 1e-6.
# mmengine form: linear warm-up 0-10, cosine 10-100 to 1e-6, then the last value held (timm overlays the
# warm-up on a 0-100 cosine: a 10-epoch phase offset, as in adamw_cosine_cls.py).
max_epochs = 300
warmup_epochs = 10
cosine_epochs = 100
base_lr = 2e-4
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=base_lr, weight_decay=0.05),
                     paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0), clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6 / base_lr, by_epoch=True, begin=0, end=warmup_epochs),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, end=cosine_epochs,
         T_max=cosine_epochs - warmup_epochs, eta_min=1e-6),
]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
