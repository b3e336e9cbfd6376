# 3DETR on ScanNet v2 fine-tuned from the MMPD stage-2 encoder (paper: detection with a 3DETR head
# on the pretrained transformer; the appendix numbers are not reproduced here).
# Everything as configs/3detr/3detr_scannet.py (published 3DETR recipe) except the pre-encoder and
# encoder, which are the pretrained student's (stated in full: the 3DETR base's own pre-encoder
# may change): the Point-MAE tokenizer (384 wide; 2048 patches x 64 points of the 40k-point scene,
# 3DETR's counts -- the tokenizer's weights do not depend on them) and the 12 x 384 encoder with
# its positional embedding before every block (encoder_pos=True, as in pretraining). The head
# reads 384-d tokens. From scratch: drop model.pretrained (--cfg-options model.pretrained=None).
# The same config fine-tunes a Point-MAE checkpoint (model.pretrained.checkpoint=...,
# producer=configs/pointmae/pretrain_scannet_pairs.py).
_base_ = ["../3detr/3detr_scannet.py"]

embed_dim = 384
stage2_checkpoint = "work_dirs/stage2_scannet_pairs/epoch_300.pth"

model = dict(
    use_point_feats=False,
    encoder_pos=True,
    tokenizer=dict(_delete_=True, type="PointTokenizer", num_tokens=2048, patch_size=64, embed_dim=embed_dim,
                   in_feat_channels=0, pos_hidden=128, pointnet_hidden=(128, 256), fps_backend="auto"),
    encoder=dict(_delete_=True, type="PointTransformerEncoder", embed_dim=embed_dim, depth=12, num_heads=6,
                 mlp_ratio=4.0, qkv_bias=False, drop_rate=0.0, attn_drop_rate=0.0, drop_path_rate=0.1,
                 pos_every_block=True),
    head=dict(in_channels=embed_dim),
    pretrained=dict(checkpoint=stage2_checkpoint, parts={"tokenizer": "tokenizer.", "encoder": "encoder."},
                    producer="configs/mmpd/stage2_scannet_pairs.py"),
)
