# Demo-size EPCL: a TINY RANDOM open_clip image transformer stands in for CLIP ViT-B/32 (no weights
# download needed; `random_init=True` is explicit and logged). It exercises the whole path (class
# token, dropout, ln_pre, task tokens after ln_pre, frozen CLIP blocks, 3DETR head) but says nothing
# about EPCL's accuracy: a random frozen transformer is a poor encoder.
# To use real weights at demo size: model.clip.weights=<file> with the matching model_name/model_cfg.
_base_ = ["./3detr_demo.py"]

clip_width = 128
tiny_clip = dict(
    embed_dim=32,
    vision_cfg=dict(image_size=32, patch_size=16, width=clip_width, layers=2, head_width=32),
    text_cfg=dict(context_length=8, vocab_size=64, width=32, heads=2, layers=1),
)
model = dict(
    _delete_=True,
    type="EPCL",
    num_task_tokens=19,
    task_token_act="gelu",
    task_token_placement="after_ln_pre",
    class_token=True,
    clip_dropout=0.3,
    freeze_clip=True,
    # 256 tokens like the 3DETR demo (the paper config: 512 x 16)
    tokenizer=dict(type="PointTokenizer", num_tokens=256, patch_size=16, embed_dim=clip_width, pointnet_hidden=(64, 128)),
    clip=dict(type="ClipTransformerEncoder", model_cfg=tiny_clip, quick_gelu=True, weights=None, random_init=True),
    head=dict(_base_.model.head, in_channels=clip_width),
)
max_epochs = 40
param_scheduler = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=2, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=2, end=max_epochs, T_max=max_epochs - 2,
         eta_min=1e-5, convert_to_iter_based=True),
]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=20)
optim_wrapper = dict(_delete_=True, type="OptimWrapper", optimizer=dict(type="AdamW", lr=1e-3, weight_decay=0.04),
                     clip_grad=dict(max_norm=1.0))
# 2 runs (seeds 0 and 1, 1 thread) on the `make demo` scenes, 2026-12-01, docs/benchmarks.md
expected_result = dict(ranges={"mAP@0.25": (0.11, 0.14), "mAP@0.5": (0.00, 0.02)},
                       measured="seeds 0-1 x 1 thread, 40 epochs, random tiny CLIP, 2026-12-01, docs/benchmarks.md")
