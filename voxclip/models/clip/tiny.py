"""A tiny ResNet-style CLIP config for tests and CPU demos (random weights; NOT a pretrained model).

Same structure as open_clip's RN50 (ModifiedResNet stem, bottleneck stages, attention pool; the
CLIP text transformer with the real 49408-token BPE vocabulary and 77-token context, so the real
tokenizer and prompt layout apply), at a size that runs in milliseconds on a CPU:
vision stage widths 8/16/32/64 channels (x4 bottleneck expansion -> 256-d /32 map),
attention pool with 2 heads (head_width 128) on a 2x2 grid (image_size 64), embed_dim 32,
text width 32 with 2 heads and 1 layer.
"""
from __future__ import annotations

__all__ = ["TINY_RN_CLIP_CFG", "TINY_VIT_CLIP_CFG"]

TINY_RN_CLIP_CFG = dict(
    embed_dim=32,
    vision_cfg=dict(image_size=64, layers=(1, 1, 1, 1), width=8, head_width=128, patch_size=None),
    text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2, layers=1),
)

# The ViT twin (S4Token's CPU demo): a 2-block, 64-wide VisionTransformer on 64x64 images with 8x8
# patches (an 8x8 grid), the same text tower as above.
TINY_VIT_CLIP_CFG = dict(
    embed_dim=32,
    vision_cfg=dict(image_size=64, patch_size=8, width=64, layers=2, head_width=16),
    text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2, layers=1),
)
