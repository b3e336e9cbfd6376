# Point-MAE's fine-tuning schedule: AdamW lr 5e-4, weight decay 0.05 (none on biases, norms and the
# class token), timm CosineLRScheduler per epoch (300 epochs, 10 warm-up epochs from 1e-6, floor 1e-6),
# gradient-norm clip 10, batch 32. mmengine form: linear warm-up over epochs 0-10, then cosine over
# 10-300 (timm's cosine runs over 0-300 with the warm-up overlaid: a phase offset of 10 epochs).
max_epochs = 300
warmup_epochs = 10
base_lr = 5e-4
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=base_lr, weight_decay=0.05),
                     paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                                        custom_keys={"cls_token": dict(decay_mult=0.0)}),
                     clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6 / base_lr, by_epoch=True, begin=0, end=warmup_epochs),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, end=max_epochs, T_max=max_epochs - warmup_epochs,
         eta_min=1e-6),
]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
