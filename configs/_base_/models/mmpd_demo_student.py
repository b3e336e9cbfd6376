# The demo-size point student shared by the Point-MAE / MMPD demo configs and their 3DETR twin
# (the widths of configs/demo/3detr_demo.py: 64 wide, 2 blocks, 4 heads).
demo_embed_dim = 64
demo_tokenizer = dict(type="PointTokenizer", num_tokens=64, patch_size=32, embed_dim=64, pointnet_hidden=(32, 64))
demo_encoder = dict(type="PointTransformerEncoder", embed_dim=64, depth=2, num_heads=4, mlp_ratio=2.0,
                    qkv_bias=True, drop_rate=0.0, drop_path_rate=0.0)
