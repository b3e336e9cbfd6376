# 3DETR on ScanNet v2 initialised from the concept-alignment pretrained point transformer (paper
# Tab. 1 "Distillation": 63.4 mAP@0.25 / 42.2 mAP@0.5; 3DETR from scratch 61.1 / 40.2; App. A.2):
# the encoder is the pretraining's 12 x 384 transformer (6 heads, pos at every block) with its
# tokenizer; 2048 tokens (3DETR's pre-encoder count), 8 x 256 decoder, 256 queries; AdamW lr 5e-4,
# 720 epochs. Everything else as configs/3detr/3detr_scannet.py (40k points, xyz only, matcher,
# losses, weight decay 0.1, 9 warm-up epochs, grad-norm clip 0.1, batch 8).
# The tokenizer and encoder are stated here in full (_delete_=True): they must match the
# pretraining's shapes whatever 3DETR's own default pre-encoder is.
#   python tools/train.py configs/concept_align/pretrain_scannet_pairs.py     # -> pretrained below
#   python tools/train.py configs/concept_align/3detr_scannet.py
# The log lists every loaded / missing / unexpected key of the pretraining checkpoint
# (voxclip.models.pretrained); the pretraining's concept module, projector and teacher are not used.
_base_ = ["../3detr/3detr_scannet.py"]

max_epochs = 720
warmup_epochs = 9
embed_dim = 384
pretrained = "work_dirs/pretrain_scannet_pairs/epoch_250.pth"
pretrain_config = "configs/concept_align/pretrain_scannet_pairs.py"

model = dict(
    encoder_pos=True,  # pretrained with the positional embedding added at every block
    tokenizer=dict(_delete_=True, type="PointTokenizer", num_tokens=2048, patch_size=32, embed_dim=embed_dim,
                   pointnet_hidden=(128, 256)),
    encoder=dict(_delete_=True, type="PointTransformerEncoder", embed_dim=embed_dim, depth=12, num_heads=6,
                 mlp_ratio=4.0, qkv_bias=False, drop_rate=0.0, drop_path_rate=0.1, pos_every_block=True),
    head=dict(in_channels=embed_dim),
    pretrained=dict(checkpoint=pretrained, producer=pretrain_config),
)

param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6 / 5e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, end=max_epochs,
         T_max=max_epochs - warmup_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=10)
