# Demo-size 3DETR fine-tuned from the demo concept-alignment pretraining: the demo 3DETR
# (configs/demo/3detr_demo.py: 8k points, 3 decoder layers, 100 epochs) with the pretraining's tiny
# tokenizer and encoder (patch 16, 4 x 64, 4 heads, pos at every block), 256 tokens.
#   python tools/train.py configs/demo/concept_align_pretrain_demo.py     # -> pretrained below
#   python tools/train.py configs/demo/concept_align_3detr_demo.py
# `make demo-concept-align` runs the chain (and the same model from scratch: model.pretrained=None).
_base_ = ["./3detr_demo.py"]

embed_dim = 64
pretrained = "work_dirs/concept_align_pretrain_demo/epoch_20.pth"
pretrain_config = "configs/demo/concept_align_pretrain_demo.py"

model = dict(
    encoder_pos=True,
    tokenizer=dict(_delete_=True, type="PointTokenizer", num_tokens=256, patch_size=16, embed_dim=embed_dim,
                   pointnet_hidden=(32, 64)),
    encoder=dict(_delete_=True, type="PointTransformerEncoder", embed_dim=embed_dim, depth=4, num_heads=4,
                 mlp_ratio=2.0, qkv_bias=False, drop_rate=0.0, drop_path_rate=0.0, pos_every_block=True),
    head=dict(in_channels=embed_dim),
    pretrained=dict(checkpoint=pretrained, producer=pretrain_config),
)
expected_result = None  # 3detr_demo.py's measured range is for 3DETR from scratch, not this chain
