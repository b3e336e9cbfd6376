# S4Token zero-shot classification of ModelNet40 (2468 test objects, 40 classes): the pre-trained
# tokenizer + frozen CLIP ViT-B/16, no fine-tuning, no labels; the CLIP-projected class token of
# each object against the prompt-ensembled CLIP text embeddings of the class names; OA / mAcc (and
# top-5) with ClsMetric. Evaluation only, on the checkpoint of a pre-training config:
#   python tools/prepare_objects.py modelnet40 data/modelnet40_normal_resampled data/modelnet40_prepared
#   python tools/test.py configs/s4token/zeroshot_cls_modelnet40.py work_dirs/pretrain_scannet_pairs/epoch_100.pth
# A lone object (docs/s4token.md, "Zero-shot classification"): superpoints computed on the bare cloud
# (kNN graph + PCA normals, no colour term), the tokenizer's colour channels filled with 0 (the
# pre-training pairs' mean colour after their normalisation), 64 tokens of 32 points for the 1024
# test points (Point-MAE's object setting); patch and anchor normalisation make the unit-sphere
# object's tokens as scale-free as a scene's. Class names come from the dataset (ClassNamesFromDataset).
_base_ = ["../_base_/default_runtime.py", "../_base_/datasets/modelnet40_cls.py"]

clip_weights = "checkpoints/clip/open_clip_vit_b16_openai.bin"
clip_model = "ViT-B-16"
clip_width = 768
# "a point cloud of a {}." (the S4Token notes' example), PointCLIP's "point cloud depth map of a {}.",
# and the ULIP / PointCLIP-style object templates of voxclip.datasets.objects.captions; averaged.
templates = ("a point cloud of a {}.", "point cloud depth map of a {}.", "a point cloud model of {}.",
             "a 3D model of a {}.", "a rendering of a {}.", "a photo of a {}.")

test_dataloader = dict(batch_size=32)
val_dataloader = test_dataloader
train_dataloader = None
train_cfg = None
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
optim_wrapper = None
param_scheduler = None
val_evaluator = dict(type="ClsMetric", topk=(1, 5))
test_evaluator = val_evaluator
custom_hooks = [dict(type="ClassNamesFromDataset")]
# the checkpoint is the pre-training one: its self-supervised parts are left out on purpose
load_ignore_prefixes = ("decoder.", "head.", "rec_head.", "teacher_tokenizer.", "teacher_head.", "ema_step")

model = dict(
    type="S4TokenOpenVocab",
    task="classification",
    tokenizer=dict(type="S4Tokenizer", num_tokens=64, patch_size=32, embed_dim=clip_width, gamma=0.4,
                   grouping="superpoint", outside_penalty=2.0, patch_norm="max", pos_norm="rms",
                   in_feat_channels=3, pointnet_hidden=(128, 256)),
    encoder=dict(type="FrozenPointViT", model_name=clip_model, weights=clip_weights, quick_gelu=True),
    text_encoder=dict(type="CLIPTextEncoder", model_name=clip_model, weights=clip_weights, quick_gelu=True),
    class_names=(),  # set from the dataset's index.json by ClassNamesFromDataset
    templates=templates,
    superpoint_source="compute",
    superpoints=dict(k=10, normal_k=16, k_thresh=0.01, min_size=20, color_weight=0.0),
    feat_channels=(0, 0),  # the object pipeline's point_feats are xyz, not colour
    fill_feats=0.0,
    logit_scale=100.0,
)
