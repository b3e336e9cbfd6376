#!/usr/bin/env python
"""Write a RANDOMLY INITIALISED ClipCap mapping network in the released checkpoint's key layout
(``clip_project.*``; NOT pretrained; for demos and tests only).

    python tools/make_random_clipcap.py OUT [--mapping mlp|transformer] [--clip-dim 32]
        [--prefix-dim 16] [--prefix-length 4] [--clip-length 4] [--num-layers 2] [--seed 0]

The defaults fit the tiny demo CLIP (embed_dim 32; configs/_base_/models/tiny_random_clip.py) and
load with ClipCapMapper(OUT, mapping, clip_dim=32, prefix_dim=16, prefix_length=4, ...). The file
holds only ``clip_project.*`` tensors, as a real ClipCap file does besides its ``gpt.*`` keys (which
the loader ignores). Real runs need ClipCap's released weights (docs/concept_align.md).
The write is atomic (voxclip.utils.atomic); same seed, same weights.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout too


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="output file (e.g. data/demo_clip/tiny_clipcap_mlp.pt)")
    p.add_argument("--mapping", choices=("mlp", "transformer"), default="mlp")
    p.add_argument("--clip-dim", type=int, default=32)
    p.add_argument("--prefix-dim", type=int, default=16)
    p.add_argument("--prefix-length", type=int, default=4)
    p.add_argument("--clip-length", type=int, default=4)
    p.add_argument("--num-layers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def make_random_clipcap(out: str, mapping: str = "mlp", clip_dim: int = 32, prefix_dim: int = 16,
                        prefix_length: int = 4, clip_length: int = 4, num_layers: int = 2, seed: int = 0) -> str:
    """Random mapper with torch seed ``seed`` saved as {'clip_project.<key>': tensor}; returns ``out``."""
    import torch

    from voxclip.models.concept_align.clipcap import CLIPCAP_PREFIX, MLPMapper, TransformerMapper
    from voxclip.utils.atomic import atomic_open

    torch.manual_seed(seed)
    if mapping == "mlp":
        net = MLPMapper(clip_dim, prefix_dim, prefix_length)
    elif mapping == "transformer":
        net = TransformerMapper(clip_dim, prefix_dim, prefix_length, clip_length, num_layers)
    else:
        raise ValueError(f"unknown --mapping {mapping!r} (mlp or transformer)")
    state = {CLIPCAP_PREFIX + k: v.detach().clone() for k, v in net.state_dict().items()}
    with atomic_open(out) as f:
        torch.save(state, f)
    return out


def main(argv=None) -> int:
    a = parse_args(argv)
    try:
        make_random_clipcap(a.out, a.mapping, a.clip_dim, a.prefix_dim, a.prefix_length, a.clip_length,
                            a.num_layers, a.seed)
    except (OSError, ValueError, RuntimeError) as e:
        print(f"[make_random_clipcap] error: {e}", file=sys.stderr)
        return 1
    print(f"[make_random_clipcap] wrote a RANDOM (not pretrained) ClipCap {a.mapping} mapper to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
