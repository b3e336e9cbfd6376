# Demo-size EPCL: a TINY RANDOM open_clip image transformer stands in for CLIP ViT-B/16 (no weights
# download needed; `random_init=True` is explicit and logged). It exercises the whole path (task
# tokens, dropout, ln_pre, frozen CLIP blocks, 3DETR head) but says nothing about EPCL's accuracy.
# To use real weights at demo size: model.clip.weights=<file> with the matching model_name/model_cfg.
_base_ = ["./3detr_demo.py"]

clip_width = 64
tiny_clip = dict(
    embed_dim=32,
    vision_cfg=dict(image_size=32, patch_size=16, width=clip_width, layers=2, head_width=16),
    text_cfg=dict(context_length=8, vocab_size=64, width=32, heads=2, layers=1),
)
model = dict(
    _delete_=True,
    type="EPCL",
    num_task_tokens=4,
    task_token_hidden=64,
    clip_dropout=0.3,
    freeze_clip=True,
    tokenizer=dict(type="PointTokenizer", num_tokens=256, patch_size=32, embed_dim=clip_width, pointnet_hidden=(32, 64)),
    clip=dict(type="ClipTransformerEncoder", model_cfg=tiny_clip, quick_gelu=True, weights=None, random_init=True),
    head=dict(type="DETR3DHead", num_classes=18, in_channels=clip_width, dim=64, num_queries=64, num_decoder_layers=3,
              num_heads=4, ffn_dim=128, dropout=0.0, num_angle_bins=1, mlp_hidden=64, mlp_dropout=0.1,
              matcher=dict(cls=1.0, objectness=0.0, center=0.0, giou=2.0),
              loss_weights=dict(cls=1.0, no_object=0.25, center=5.0, size=1.0, giou=1.0),
              test_cfg=dict(score_thr=0.01, nms_iou=0.25, per_class_proposal=True, max_per_scene=128)),
)
optim_wrapper = dict(_delete_=True, type="OptimWrapper", optimizer=dict(type="AdamW", lr=1e-3, weight_decay=0.04),
                     clip_grad=dict(max_norm=1.0))
