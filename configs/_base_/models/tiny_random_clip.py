# The tiny RANDOM CLIP of the CPU demos: voxclip.models.clip.tiny.TINY_RN_CLIP_CFG (configs cannot
# import it; tests check they agree), written by
#   python tools/make_random_clip.py data/demo_clip/tiny_rn_clip.pt --model-cfg tiny
tiny_clip_weights = "data/demo_clip/tiny_rn_clip.pt"
tiny_clip_cfg = dict(
    embed_dim=32,
    vision_cfg=dict(image_size=64, layers=(1, 1, 1, 1), width=8, head_width=128, patch_size=None),
    text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2, layers=1),
)
# Its ViT twin (voxclip.models.clip.tiny.TINY_VIT_CLIP_CFG), for S4Token's demo, written by
#   python tools/make_random_clip.py data/demo_clip/tiny_vit_clip.pt --model-cfg tiny_vit
tiny_vit_clip_weights = "data/demo_clip/tiny_vit_clip.pt"
tiny_vit_clip_cfg = dict(
    embed_dim=32,
    vision_cfg=dict(image_size=64, patch_size=8, width=64, layers=2, head_width=16),
    text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2, layers=1),
)
