# The tiny RANDOM DINOv2 of the CPU demos: timm vit_small_patch14_dinov2 with
# tools/make_random_dinov2.TINY_DINOV2_KWARGS (configs cannot import it; tests check they agree), written by
#   python tools/make_random_dinov2.py data/demo_clip/tiny_dinov2.safetensors --tiny
tiny_dinov2_weights = "data/demo_clip/tiny_dinov2.safetensors"
tiny_dinov2_kwargs = dict(img_size=56, embed_dim=48, depth=2, num_heads=2)
