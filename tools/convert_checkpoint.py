#!/usr/bin/env python
"""Convert MinkowskiEngine Res16UNet / Pointcept SpUNet-v1m1 weights to a voxclip SRUNet checkpoint.

    python tools/convert_checkpoint.py --from minkowski|pointcept SRC DST [--config CONFIG]
                                       [--prefix backbone.] [--drop-final] [--allow-unmatched] [--unsafe-load]

DST holds `{'state_dict': {PREFIX + key: tensor}, 'meta': {...}}` with canonical kernels, for a
config's `init_cfg=dict(type='Pretrained', checkpoint=DST)` / `load_pretrained_backbone`.
Every source key that maps to nothing is listed; the conversion fails on them unless
--allow-unmatched. With --config the checkpoint must fit the config's `model.backbone` (first-layer
kernel, plan, channels, final layer; --drop-final leaves the final 1x1 conv out). docs/interop.md.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from voxclip.engine.cli import run_cli  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="MinkowskiEngine / Pointcept SR-UNet weights -> voxclip SRUNet")
    p.add_argument("--from", dest="source", choices=["minkowski", "pointcept"], required=True)
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--config", help="voxclip config whose model.backbone the weights must fit")
    p.add_argument("--prefix", default="backbone.", help="key prefix in DST (default backbone.)")
    p.add_argument("--drop-final", action="store_true", help="leave out the final 1x1 conv (another head size)")
    p.add_argument("--allow-unmatched", action="store_true", help="write DST even if source keys map to nothing")
    p.add_argument("--unsafe-load", action="store_true", help="full unpickling of SRC (only for a file you trust)")
    return p.parse_args(argv)


def load_source_state(path: str, unsafe: bool = False) -> dict:
    """The tensor dict of a third-party checkpoint ({'state_dict'|'model'|'net': ...} or bare)."""
    import torch

    from voxclip.engine.checkpoint_io import load_checkpoint_file

    ckpt = load_checkpoint_file(path, unsafe=unsafe, what="source checkpoint")
    for key in ("state_dict", "model", "net"):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            ckpt = ckpt[key]
            break
    if not isinstance(ckpt, dict) or not any(isinstance(v, torch.Tensor) for v in ckpt.values()):
        raise ValueError(f"{path}: no state dict of tensors in the checkpoint")
    return {k: v for k, v in ckpt.items() if isinstance(v, torch.Tensor)}


def backbone_of(config: str) -> dict:
    from mmengine.config import Config

    node = Config.fromfile(config).model
    while node is not None and node.get("type") != "SRUNet" and "backbone" in node:
        node = node["backbone"]
    if node is None or node.get("type") not in ("SRUNet", "Text4PointSRUNet"):
        raise ValueError(f"{config}: model has no SRUNet backbone")
    return dict(node)


def main(argv=None) -> dict:
    args = parse_args(argv)
    import torch

    from voxclip.interop.checkpoints import CONVERTERS, ConversionError, check_against_backbone
    from voxclip.utils.atomic import atomic_open

    state = load_source_state(args.src, args.unsafe_load)
    try:
        conv = CONVERTERS[args.source](state)
    except ConversionError as exc:
        raise ValueError(f"{args.src}: {exc}") from None
    state_out = dict(conv.state_dict)
    srunet = dict(conv.srunet)
    if args.drop_final:
        state_out = {k: v for k, v in state_out.items() if not k.startswith("final.")}
        srunet.pop("out_channels")
    print(f"{args.src}: {conv.source_format} -> SRUNet({', '.join(f'{k}={v!r}' for k, v in srunet.items())}), "
          f"{len(state_out)} tensors", flush=True)
    for note in conv.notes:
        print(f"note: {note}")
    if conv.unmatched_source:
        print(f"{len(conv.unmatched_source)} source key(s) map to nothing:")
        for key in conv.unmatched_source:
            shape = next((tuple(v.shape) for k, v in state.items() if k == key or k.endswith("." + key)), "")
            print(f"  {key}  {shape}")
        if not args.allow_unmatched:
            raise ValueError(f"{args.src}: {len(conv.unmatched_source)} unmatched source keys (listed above); "
                             f"--allow-unmatched writes the rest")
    if args.config:
        backbone = backbone_of(args.config)
        if args.drop_final:
            backbone.pop("out_channels", None)
        diffs = check_against_backbone(type(conv)(state_out, srunet, conv.source_format), backbone)
        if diffs:
            raise ValueError(f"{args.src}: architecture differs from {args.config}'s backbone: " + "; ".join(diffs))
    prefix = args.prefix or ""
    with atomic_open(args.dst) as f:
        torch.save({"state_dict": {prefix + k: v for k, v in state_out.items()},
                    "meta": {"converted_from": osp.abspath(args.src), "source_format": conv.source_format,
                             "srunet": srunet, "unmatched_source_keys": conv.unmatched_source}}, f)
    print(f"wrote {args.dst} (keys '{prefix}*')")
    return dict(srunet=srunet, unmatched=conv.unmatched_source, dst=args.dst)


if __name__ == "__main__":
    run_cli(main)
