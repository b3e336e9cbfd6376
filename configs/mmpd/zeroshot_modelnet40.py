# Zero-shot ModelNet40 classification with the stage-1 student of multimodal masked point distillation
# (paper Tab. 2: top-1 / top-5; Point-M2AE encoder 73.4 / 94.5 with BLIP-2 captions). Evaluation only:
#   python tools/test.py configs/mmpd/zeroshot_modelnet40.py work_dirs/stage1_scannet_pairs/epoch_100.pth
# (the model loads `pretrained` below when it is built; tools/test.py then loads CHECKPOINT over the same
# tokenizer/encoder weights and ignores the stage-1 keys it does not know).
# Point embedding = heads.text(global_head.proj([max, mean] of the encoder's tokens)), stage 1's text
# branch (no class token); class embeddings = CLIP ViT-B/16 text features of prompt templates
# ("a point cloud model of {}." ...), averaged; prediction = argmax cosine. 1024 FPS points as the
# fine-tuning test; the stage-1 tokenizer's 512 groups of 32 as pretrained.
_base_ = [
    "../_base_/default_runtime.py",
    "../_base_/datasets/modelnet40_cls.py",
]

clip_weights = "checkpoints/clip/open_clip_vit_b16_openai.bin"
pretrained = "work_dirs/stage1_scannet_pairs/epoch_100.pth"
pretrain_config = "configs/mmpd/stage1_scannet_pairs.py"
model = dict(
    type="ZeroShotClassifier",
    cls_token=False,
    pooling=("max", "mean"),
    projection_hidden=512,
    tokenizer=dict(type="PointTokenizer", num_tokens=512, patch_size=32, embed_dim=384, pointnet_hidden=(128, 256)),
    encoder=dict(type="PointTransformerEncoder", embed_dim=384, depth=12, num_heads=6, mlp_ratio=4.0, qkv_bias=False,
                 drop_rate=0.0, drop_path_rate=0.1),
    text_encoder=dict(type="CLIPTextEncoder", model_name="ViT-B-16", weights=clip_weights),
    class_names=_base_.class_names,
    templates=("a point cloud model of {}.", "a 3D model of a {}.", "a rendering of a {}.", "a photo of a {}."),
    pretrained=dict(checkpoint=pretrained, producer=pretrain_config,
                    parts={"tokenizer": "tokenizer.", "encoder": "encoder.", "global_proj": "global_head.proj.",
                           "text_proj": "heads.text."}),
)
val_evaluator = dict(type="ClsMetric", topk=(1, 5))
test_evaluator = val_evaluator
# evaluation-only: the loops below exist so that the config builds like every other
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=0.0))
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=1)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
