# VoteNet-on-SR-UNet fine-tuning schedule (Text4Point App. B.2 after PointContrast): Adam, lr 1e-3,
# 15 warm-up epochs, cosine decay; VoteNet's 180 epochs.
max_epochs = 180
warmup_epochs = 15
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-3, weight_decay=0.0),
                     clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type="LinearLR", start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, end=max_epochs, T_max=max_epochs - warmup_epochs,
         eta_min=1e-5, convert_to_iter_based=True),
]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
# The published batch is 32: 8 per process x 4 processes (torchrun --nproc_per_node 4).
auto_scale_lr = dict(enable=False, base_batch_size=32)
