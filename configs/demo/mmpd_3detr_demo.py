# Demo-size 3DETR fine-tuned from the demo MMPD stage-2 encoder (configs/demo/3detr_demo.py with the
# pretrained student's tokenizer/encoder stated in full; 256 patches of the 8k-point scenes).
# `make demo-mmpd` passes the stage-2 checkpoint it wrote; model.pretrained=None trains from scratch.
_base_ = ["./3detr_demo.py", "../_base_/models/mmpd_demo_student.py"]

stage2_checkpoint = "work_dirs/mmpd_stage2_demo/epoch_20.pth"
model = dict(
    encoder_pos=True,
    tokenizer=dict(_delete_=True, type="PointTokenizer", num_tokens=256, patch_size=32, embed_dim=64,
                   in_feat_channels=0, pos_hidden=128, pointnet_hidden=(32, 64), fps_backend="auto"),
    encoder=dict(_delete_=True, type="PointTransformerEncoder", embed_dim=64, depth=2, num_heads=4, mlp_ratio=2.0,
                 qkv_bias=True, drop_rate=0.0, attn_drop_rate=0.0, drop_path_rate=0.0, pos_every_block=True),
    head=dict(in_channels=64),
    pretrained=dict(checkpoint=stage2_checkpoint, parts={"tokenizer": "tokenizer.", "encoder": "encoder."},
                    producer="configs/demo/mmpd_stage2_demo.py"),
)
expected_result = None  # 3detr_demo.py's measured range is for 3DETR from scratch, not this chain
