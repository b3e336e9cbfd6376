# CPU twin of configs/epcl/cls_modelnet40.py on the demo objects: a RANDOM tiny ViT CLIP transformer
# (random_init: shows the frozen-CLIP chain runs, not EPCL's accuracy) and the random tiny CLIP text
# tower of tools/make_random_clip.py (data/demo_clip/tiny_rn_clip.pt) for the text-alignment loss.
_base_ = ["./pointmae_cls_demo.py", "../_base_/models/tiny_random_clip.py"]

tiny_vit = dict(embed_dim=32, vision_cfg=dict(image_size=32, patch_size=16, width=64, layers=2, head_width=32),
                text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2, layers=1))
model = dict(
    _delete_=True,
    type="EPCLClassifier",
    num_classes=len(_base_.demo_classes),
    pooling=("cls", "max"),
    head_hidden=(64, 64),
    head_dropout=0.2,
    num_task_tokens=4,
    task_token_hidden=64,
    clip_dropout=0.3,
    freeze_clip=True,
    tokenizer=dict(type="PointTokenizer", num_tokens=32, patch_size=32, embed_dim=64, pointnet_hidden=(32, 64)),
    clip=dict(type="ClipTransformerEncoder", model_cfg=tiny_vit, random_init=True),
    text_encoder=dict(type="CLIPTextEncoder", model_cfg=_base_.tiny_clip_cfg, weights=_base_.tiny_clip_weights),
    class_names=_base_.demo_classes,
    template="Point cloud of a {}.",
    text_loss_weight=1.0,
    test_cfg=dict(votes=1),
)
