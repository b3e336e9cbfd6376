# S4Token annotation-free open-vocabulary semantic segmentation of ScanNet v2 (20 classes): the
# pre-trained tokenizer + frozen CLIP ViT-B/16, superpoint propagation (superpoint.npy written by
# tools/prepare_scannet.py from ScanNet's segs.json), cosine similarity to prompt-ensembled CLIP
# text embeddings, mIoU with SegMetric. Nothing is trained (tools/test.py only):
#   python tools/test.py configs/s4token/openvocab_seg_scannet.py \
#       work_dirs/pretrain_scannet_pairs/epoch_100.pth
# Any class list: --cfg-options "model.class_names=[sofa,lamp,...]" (the metric needs labels for them).
_base_ = ["../_base_/default_runtime.py", "../_base_/datasets/scannet_seg.py"]

data_root = "data/scannet"
clip_weights = "checkpoints/clip/open_clip_vit_b16_openai.bin"
clip_model = "ViT-B-16"
clip_width = 768
# The 20 classes as prompt words (the raw spellings "showercurtrain"/"otherfurniture" as words).
text_class_names = (
    "wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf",
    "picture", "counter", "desk", "curtain", "refrigerator", "shower curtain", "toilet", "sink",
    "bathtub", "other furniture",
)
point_color_mean = (109.8, 97.2, 83.8)   # as the pre-training pairs (tools/query.py reads these)
point_color_std = 256.0
test_pipeline = [dict(type="NormalizeColor", mean=point_color_mean, std=point_color_std),
                 dict(type="HeightFeature", percentile=0.99),
                 dict(type="PointFeatures", keys=("colors", "height")),
                 dict(type="Voxelize", voxel_size=0.05), dict(type="PackInputs")]
val_dataloader = dict(batch_size=1, dataset=dict(data_root=data_root, pipeline=test_pipeline, with_superpoint=True))
test_dataloader = val_dataloader
train_dataloader = None
train_cfg = None
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
optim_wrapper = None
param_scheduler = None
# The checkpoint is the pre-training one: its tokenizer is used, its self-supervised parts (query
# decoder, prototype heads, EMA teacher) are left out on purpose; any other mismatch is an error.
load_ignore_prefixes = ("decoder.", "head.", "rec_head.", "teacher_tokenizer.", "teacher_head.", "ema_step")

model = dict(
    type="S4TokenOpenVocab",
    tokenizer=dict(type="S4Tokenizer", num_tokens=2048, patch_size=32, embed_dim=clip_width, gamma=0.4,
                   grouping="superpoint", outside_penalty=2.0, patch_norm="max", pos_norm="rms",
                   in_feat_channels=3, pointnet_hidden=(128, 256)),
    encoder=dict(type="FrozenPointViT", model_name=clip_model, weights=clip_weights, quick_gelu=True),
    text_encoder=dict(type="CLIPTextEncoder", model_name=clip_model, weights=clip_weights, quick_gelu=True),
    class_names=text_class_names,
    alpha=1.0,
    superpoint_source="data",
    feat_channels=(0, 3),
)
