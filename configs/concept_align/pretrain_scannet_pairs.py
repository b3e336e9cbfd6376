# Concept-alignment distillation pretraining (paper Sec. 3-4.1, App. A.1, Tab. 8) on ScanNet 2D-3D
# pairs: student = Point-MAE tokenizer (4096 points -> 64 FPS centres x 32 kNN points, PointNet
# 128/256/512/384) + 12 x 384 transformer (6 heads, pos at every block) + concept extraction
# (32 concept queries, one shared cross-attention block applied at each of the 12 layers) + 2-layer
# MLP to the prefix shape; teacher = frozen CLIP ViT-B/32 -> frozen ClipCap MLP mapper (Conceptual
# Captions weights, prefix 10 x 768); loss MSE(C', P) (Eq. 12). AdamW lr 1e-3, weight decay 0.05,
# 10 warm-up epochs then cosine, 250 epochs; augmentation scale + translate.
#
# Data:  python tools/extract_scannet_pairs.py RAW_ROOT data/scannet --frame-skip 25   (pairs/)
#        next to python tools/prepare_scannet.py RAW_ROOT data/scannet                 (splits/train.txt)
# Teacher weights (local files, never downloaded at run time):
#        checkpoints/clip/ViT-B-32-openai.pt      OpenAI's ViT-B/32 (open_clip 'ViT-B-32' 'openai')
#        checkpoints/clipcap/conceptual_weights.pt ClipCap's Conceptual Captions MLP model (gpt.* ignored)
# Optional teacher cache, read when complete (else the teacher runs on the images):
#        python tools/cache_clipcap_prefixes.py configs/concept_align/pretrain_scannet_pairs.py data/scannet/clipcap_cache
#        (add --cfg-options model.teacher=None to train without building the image tower at all)
# Run:   torchrun --nproc_per_node 4 tools/train.py configs/concept_align/pretrain_scannet_pairs.py --launcher pytorch
# -> work_dirs/pretrain_scannet_pairs/epoch_250.pth; its tokenizer.* / encoder.* keys initialise
#    configs/concept_align/3detr_scannet.py and seg_scannet.py.
# Open choices (docs/concept_align.md): batch 128 (32 x 4; the paper gives none, Point-MAE's value);
# pre-norm concept blocks; projector = channel MLP + token-axis linear; points kept in metres.
_base_ = ["../_base_/default_runtime.py"]

data_root = "data/scannet"
clip_weights = "checkpoints/clip/ViT-B-32-openai.pt"
clipcap_weights = "checkpoints/clipcap/conceptual_weights.pt"
max_epochs = 250
warmup_epochs = 10
num_points = 4096
embed_dim = 384
prefix_length = 10
prefix_dim = 768

train_dataloader = dict(
    batch_size=32,  # per process; 4 processes -> 128
    num_workers=6,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=True),
    collate_fn=dict(type="concept_pairs_collate"),
    dataset=dict(type="ConceptAlignPairs", data_root=data_root, split="train", frame_stride=25,
                 num_points=num_points, image_size=224, scale_range=(2.0 / 3.0, 1.5), translate=0.2,
                 cache_dir=data_root + "/clipcap_cache", target_shape=(prefix_length, prefix_dim)),
)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

model = dict(
    type="ConceptAlignPretrainer",
    tokenizer=dict(type="PointTokenizer", num_tokens=64, patch_size=32, embed_dim=embed_dim,
                   pointnet_hidden=(128, 256)),
    encoder=dict(type="PointTransformerEncoder", embed_dim=embed_dim, depth=12, num_heads=6, mlp_ratio=4.0,
                 qkv_bias=False, drop_path_rate=0.1, pos_every_block=True),
    teacher=dict(
        image_encoder=dict(type="CLIPImageEmbedder", model_name="ViT-B-32", weights=clip_weights),
        mapper=dict(type="ClipCapMapper", checkpoint=clipcap_weights, mapping="mlp", clip_dim=512,
                    prefix_dim=prefix_dim, prefix_length=prefix_length),
        target="prefix",
    ),
    target_shape=(prefix_length, prefix_dim),
    concept=dict(num_concepts=32, share_blocks=True, layers="all", mlp_ratio=4.0),
    concept_cross_attention=True,
    concept_source="output",  # layer i's output tokens (the last after the final norm): every encoder weight trains
    loss_weight=1.0,
)

optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=1e-3, weight_decay=0.05))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, end=max_epochs,
         T_max=max_epochs - warmup_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(type="LoggerHook", interval=20),
    checkpoint=dict(type="CheckpointHook", interval=10, max_keep_ckpts=2, save_best=None),
)
log_processor = dict(by_epoch=True, window_size=20)
auto_scale_lr = dict(enable=False, base_batch_size=128)
