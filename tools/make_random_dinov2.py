#!/usr/bin/env python
"""Write a RANDOMLY INITIALISED timm DINOv2 state dict (NOT pretrained; for demos and tests only).

    python tools/make_random_dinov2.py OUT [--model vit_small_patch14_dinov2] [--tiny] [--seed 0]

The file has timm's key layout for the model (cls_token, pos_embed, patch_embed.proj, blocks.N
with LayerScale ls1/ls2, norm), i.e. the layout of timm/<model>.lvd142m's model.safetensors, and is
read back by voxclip.models.mmpd.DINOv2Teacher through the same loading code. ``--tiny`` shrinks
it to TINY_DINOV2_KWARGS (56-pixel input: 4x4 patches of 14, width 48, 2 blocks, 2 heads; a few
hundred kB) -- the demo configs pass the same ``model_kwargs``. Output .safetensors or .pth by
extension; the write is atomic; same seed, same weights.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout too

TINY_DINOV2_KWARGS = dict(img_size=56, embed_dim=48, depth=2, num_heads=2)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="output file (e.g. data/demo_clip/tiny_dinov2.safetensors)")
    p.add_argument("--model", default="vit_small_patch14_dinov2",
                   choices=("vit_small_patch14_dinov2", "vit_base_patch14_dinov2"))
    p.add_argument("--tiny", action="store_true", help=f"override the widths with {TINY_DINOV2_KWARGS}")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def make_random_dinov2(out: str, model: str = "vit_small_patch14_dinov2", tiny: bool = True, seed: int = 0) -> str:
    """Build the random timm model with torch seed ``seed`` and save its state dict at ``out``."""
    import timm
    import torch

    from voxclip.utils.atomic import atomic_open

    torch.manual_seed(seed)
    vit = timm.create_model(model, pretrained=False, num_classes=0, **(TINY_DINOV2_KWARGS if tiny else {}))
    state = {k: v.contiguous() for k, v in vit.state_dict().items()}
    with atomic_open(out) as f:
        if out.endswith(".safetensors"):
            from safetensors.torch import save

            f.write(save(state))
        else:
            torch.save(state, f)
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        make_random_dinov2(args.out, args.model, args.tiny, args.seed)
    except (OSError, ValueError, RuntimeError) as e:
        print(f"[make_random_dinov2] error: {e}", file=sys.stderr)
        return 1
    size = os.path.getsize(args.out) / 2 ** 20
    print(f"[make_random_dinov2] wrote a RANDOM (not pretrained) {'tiny ' if args.tiny else ''}{args.model} "
          f"to {args.out} ({size:.2f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
