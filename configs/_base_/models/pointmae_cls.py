# Point-MAE's fine-tuning transformer (cfgs/finetune_modelnet.yaml of the released code): 64 groups of
# 32 points, 384 wide, 12 blocks, 6 heads, drop path 0.1; head on [class token, max-pooled tokens]:
# Linear(768, 256)-BN-ReLU-Dropout(0.5)-Linear(256, 256)-BN-ReLU-Dropout(0.5)-Linear(256, K).
model = dict(
    type="PointClassifier",
    num_classes=40,
    pooling=("cls", "max"),
    head_hidden=(256, 256),
    head_dropout=0.5,
    label_smoothing=0.0,
    tokenizer=dict(type="PointTokenizer", num_tokens=64, patch_size=32, embed_dim=384, pointnet_hidden=(128, 256)),
    encoder=dict(type="PointTransformerEncoder", embed_dim=384, depth=12, num_heads=6, mlp_ratio=4.0, qkv_bias=False,
                 drop_rate=0.0, attn_drop_rate=0.0, drop_path_rate=0.1),
    test_cfg=dict(votes=1),
)
