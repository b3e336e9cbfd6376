#!/usr/bin/env python
"""Ask a scene where things are: per-point CLIP text similarity of one or more prompts.

    python tools/query.py CONFIG CKPT SCENE "a sofa" ["a lamp" ...] [--out-dir DIR] [--cfg-options ...]

CONFIG builds a model with ``point_text_similarity(points, feats, superpoint, prompts) -> (N, P)``
(S4TokenOpenVocab: configs/s4token/openvocab_seg_scannet.py or its demo twin; other methods can
implement the same method); CKPT is the pre-training checkpoint whose ``tokenizer.*`` weights it
takes. SCENE is a prepared scene folder (coord.npy, color.npy, optional superpoint.npy, as
tools/prepare_scannet.py writes) or a .ply point cloud / mesh with x, y, z, red, green, blue.
Per prompt it writes ``<slug>.png`` (top-down heat map, matplotlib Agg) and ``<slug>.ply`` (the
points coloured by similarity, plyfile), atomically, into --out-dir (default work_dirs/query/<scene>).
Exit status 0 on success, 1 with a one-line error naming the file otherwise.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout too

import numpy as np  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config")
    p.add_argument("checkpoint")
    p.add_argument("scene", help="prepared scene folder or .ply file")
    p.add_argument("prompts", nargs="+", help="one or more text prompts, e.g. 'a sofa'")
    p.add_argument("--out-dir", help="output folder (default work_dirs/query/<scene name>)")
    p.add_argument("--cfg-options", nargs="+", action=DictAction)
    return p.parse_args(argv)


def load_scene(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(N, 3) float32 points, (N, 3) uint8 colours, (N,) superpoints or None; ValueError naming the file."""
    if os.path.isdir(path):
        from voxclip.datasets.base import load_npy

        coord = load_npy(os.path.join(path, "coord.npy"), np.float32, (None, 3))
        color = load_npy(os.path.join(path, "color.npy"), np.uint8, (len(coord), 3))
        sp_path = os.path.join(path, "superpoint.npy")
        sp = load_npy(sp_path, np.int64, (len(coord),)) if os.path.isfile(sp_path) else None
        return coord, color, sp
    if not os.path.isfile(path) or not path.lower().endswith(".ply"):
        raise ValueError(f"{path}: not a prepared scene folder or a .ply file")
    from plyfile import PlyData

    try:
        v = PlyData.read(path)["vertex"]
        coord = np.stack([v["x"], v["y"], v["z"]], 1).astype(np.float32)
        names = v.data.dtype.names
        color = (np.stack([v["red"], v["green"], v["blue"]], 1).astype(np.uint8) if "red" in names
                 else np.full((len(coord), 3), 128, np.uint8))
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read the ply's vertices ({type(exc).__name__}: {exc})") from exc
    if not len(coord) or not np.isfinite(coord).all():
        raise ValueError(f"{path}: no points or non-finite coordinates")
    return coord, color, None


def slug(prompt: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", prompt.lower()).strip("_") or "prompt"


def heat_colors(sim: np.ndarray) -> np.ndarray:
    """(N,) similarities -> (N, 3) uint8 colours of matplotlib's 'inferno' map over the scene's range."""
    from matplotlib import colormaps

    lo, hi = float(sim.min()), float(sim.max())
    t = (sim - lo) / (hi - lo) if hi > lo else np.zeros_like(sim)
    return (colormaps["inferno"](t)[:, :3] * 255).round().astype(np.uint8)


def write_ply(path: Path, points: np.ndarray, colors: np.ndarray, sim: np.ndarray) -> None:
    from plyfile import PlyData, PlyElement

    from voxclip.utils.atomic import atomic_open

    v = np.empty(len(points), dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"), ("red", "u1"), ("green", "u1"),
                                     ("blue", "u1"), ("similarity", "f4")])
    v["x"], v["y"], v["z"] = points[:, 0], points[:, 1], points[:, 2]
    v["red"], v["green"], v["blue"] = colors[:, 0], colors[:, 1], colors[:, 2]
    v["similarity"] = sim
    with atomic_open(path) as f:
        PlyData([PlyElement.describe(v, "vertex")], text=False).write(f)


def write_png(path: Path, points: np.ndarray, sim: np.ndarray, prompt: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from voxclip.utils.atomic import atomic_open

    order = np.argsort(points[:, 2])  # higher points drawn last (top-down view)
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    sc = ax.scatter(points[order, 0], points[order, 1], c=sim[order], cmap="inferno", s=2, linewidths=0)
    ax.set_aspect("equal")
    ax.set_title(f'"{prompt}": cosine similarity')
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    fig.colorbar(sc, ax=ax, fraction=0.046, pad=0.04)
    with atomic_open(path) as f:
        fig.savefig(f, format="png", bbox_inches="tight")
    plt.close(fig)


def build_model(config: str, checkpoint: str, cfg_options=None):
    """The config's model with the ``tokenizer.*`` weights of ``checkpoint`` (strict: all, same shapes)."""
    import torch  # noqa: F401
    from mmengine.config import Config

    from voxclip.models.pretrained import load_pretrained_backbone
    from voxclip.registry import MODELS

    if not os.path.isfile(config):
        raise ValueError(f"{config}: config file not found")
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    import voxclip.models  # noqa: F401  (registers the models)

    model = MODELS.build(cfg.model)
    if not hasattr(model, "point_text_similarity"):
        raise ValueError(f"{config}: model {type(model).__name__} has no point_text_similarity(...)")
    info = load_pretrained_backbone(model.tokenizer, checkpoint, "tokenizer.")
    if info["missing"] or info["mismatched"]:
        raise ValueError(f"{checkpoint}: tokenizer weights do not fit {config} (missing {info['missing'][:3]}, "
                         f"mismatched {info['mismatched'][:3]})")
    model.eval()
    return model, cfg


def query(config: str, checkpoint: str, scene: str, prompts, out_dir: str | None = None, cfg_options=None) -> list:
    """Run the prompts; returns the list of written files."""
    import torch

    points, colors, sp = load_scene(scene)
    model, cfg = build_model(config, checkpoint, cfg_options)
    mean = np.asarray(cfg.get("point_color_mean", (109.8, 97.2, 83.8)), np.float32)
    std = np.asarray(cfg.get("point_color_std", 256.0), np.float32)
    feats = torch.from_numpy((colors.astype(np.float32) - mean) / std)
    sim = model.point_text_similarity(torch.from_numpy(points), feats,
                                      None if sp is None else torch.from_numpy(sp), list(prompts)).cpu().numpy()
    out = Path(out_dir or os.path.join("work_dirs", "query", Path(scene.rstrip("/")).stem))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for j, prompt in enumerate(prompts):
        s = sim[:, j].astype(np.float32)
        base = out / slug(prompt)
        write_png(base.with_suffix(".png"), points, s, prompt)
        write_ply(base.with_suffix(".ply"), points, heat_colors(s), s)
        written += [str(base.with_suffix(".png")), str(base.with_suffix(".ply"))]
        print(f"[query] {prompt!r}: similarity {s.min():.3f}..{s.max():.3f} -> {base}.png / .ply")
    return written


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        query(args.config, args.checkpoint, args.scene, args.prompts, args.out_dir, args.cfg_options)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        print(f"[query] error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
