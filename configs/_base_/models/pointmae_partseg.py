# Point-MAE's part segmentation model (segmentation/models/pt.py of the released code): 128 groups of
# 32 points, 384 wide, 12 blocks, 6 heads, drop path 0.1, no class token; features of blocks 3, 7, 11
# (0-based, each through the final LayerNorm) concatenated (1152); global = [max, mean, label embedding
# (one-hot 16 -> 64, BN, LeakyReLU 0.2)] (2368); propagation to the 2048 points (3-NN inverse distance,
# + xyz, conv 1155 -> 1536 -> 1024), then [1024 + 2368] -> 512 -> dropout 0.5 -> 256 -> 50.
model = dict(
    type="PointPartSegmentor",
    fetch_layers=(3, 7, 11),
    category_onehot=True,
    label_dim=64,
    use_point_feats=False,
    restrict_to_category=True,
    tokenizer=dict(type="PointTokenizer", num_tokens=128, patch_size=32, embed_dim=384, pointnet_hidden=(128, 256)),
    encoder=dict(type="PointTransformerEncoder", embed_dim=384, depth=12, num_heads=6, mlp_ratio=4.0, qkv_bias=False,
                 drop_rate=0.0, attn_drop_rate=0.0, drop_path_rate=0.1),
    head=dict(type="TokenSegHead", skip_channels=[3], fp_channels=[(1536, 1024)], head_channels=(512, 256),
              dropout=0.5, dropout_after=0),
)
