#!/usr/bin/env python
"""Write a RANDOMLY INITIALISED open_clip CLIP state dict (NOT pretrained; for demos and tests only).

    python tools/make_random_clip.py OUT [--model-cfg tiny|tiny_vit|RN50] [--seed 0]

`tiny` is voxclip.models.clip.TINY_RN_CLIP_CFG (a few MB; loads with
`load_open_clip(OUT, model_cfg=TINY_RN_CLIP_CFG)`), `tiny_vit` its ViT twin TINY_VIT_CLIP_CFG
(S4Token's demo), `RN50` is open_clip's RN50 architecture
(~400 MB; loads with `load_open_clip(OUT, model_name='RN50')`). Demo configs point their CLIP
`weights` at such a file so that a CPU demo runs the real loading code without network access.
The features it gives are meaningless: real runs need OpenAI's RN50 weights (docs/text4point.md).
The write is atomic (voxclip.utils.atomic); same seed, same weights.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout too


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="output file (e.g. checkpoints/clip/random_tiny_rn_clip.pt)")
    p.add_argument("--model-cfg", choices=("tiny", "tiny_vit", "RN50"), default="tiny")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def make_random_clip(out: str, model_cfg: str = "tiny", seed: int = 0) -> str:
    """Build the random CLIP with torch seed `seed` and save its state dict at `out`; returns `out`."""
    import torch

    from voxclip.models.clip import TINY_RN_CLIP_CFG, TINY_VIT_CLIP_CFG, build_open_clip
    from voxclip.utils.atomic import atomic_open

    torch.manual_seed(seed)
    if model_cfg == "tiny":
        model = build_open_clip(model_cfg=TINY_RN_CLIP_CFG)
    elif model_cfg == "tiny_vit":
        model = build_open_clip(model_cfg=TINY_VIT_CLIP_CFG)
    elif model_cfg == "RN50":
        model = build_open_clip("RN50")
    else:
        raise ValueError(f"unknown --model-cfg {model_cfg!r} (tiny, tiny_vit or RN50)")
    with atomic_open(out) as f:
        torch.save(model.state_dict(), f)
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        make_random_clip(args.out, args.model_cfg, args.seed)
    except (OSError, ValueError, RuntimeError) as e:
        print(f"[make_random_clip] error: {e}", file=sys.stderr)
        return 1
    size = os.path.getsize(args.out) / 2 ** 20
    print(f"[make_random_clip] wrote a RANDOM (not pretrained) {args.model_cfg} CLIP to {args.out} ({size:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
