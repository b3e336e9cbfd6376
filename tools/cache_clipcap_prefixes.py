#!/usr/bin/env python
"""Cache the frozen teacher's targets (ClipCap prefixes P, or CLIP embeddings for target='clip') of
every pair a concept-alignment pretraining config trains on, so that the long run needs no image tower.

    python tools/cache_clipcap_prefixes.py CONFIG CACHE_DIR [--batch-size 32] [--device cpu]
        [--cfg-options k=v ...]

Reads CONFIG's ``model.teacher`` and ``train_dataloader.dataset`` (its scenes, frame_stride and
image_size), writes CACHE_DIR/meta.json and CACHE_DIR/<scene>/<frame:06d>.npy atomically
(voxclip.models.concept_align.cache). Entries already there are skipped: an interrupted run resumes.
The dataset reads the cache when it is complete for its pairs (``train_dataloader.dataset.cache_dir``,
data/scannet/clipcap_cache in the paper config); add ``--cfg-options model.teacher=None`` to train
without building the image tower (``model.target_shape`` then gives the prefix shape).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout too


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config")
    p.add_argument("cache_dir")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", default="cpu")
    p.add_argument("--cfg-options", nargs="+", action=DictAction)
    return p.parse_args(argv)


def cache_prefixes(cfg, cache_dir: str, batch_size: int = 32, device: str = "cpu", log=print) -> dict:
    """Fill ``cache_dir`` for the config's training pairs; returns dict(total, written, skipped)."""
    import torch

    from voxclip.datasets.concept_pairs import clip_preprocess
    from voxclip.datasets.rgbd_pairs import load_pair_npz
    from voxclip.models.concept_align import PrefixCache
    from voxclip.registry import DATASETS, MODELS
    import voxclip.datasets  # noqa: F401  (registers)
    import voxclip.models  # noqa: F401

    teacher_cfg = cfg.model.get("teacher")
    if teacher_cfg is None:
        raise ValueError(f"{cfg.filename}: model.teacher is None; the cache tool needs the teacher config")
    teacher_cfg = dict(teacher_cfg)
    teacher_cfg.pop("type", None)
    teacher = MODELS.build(dict(type="ConceptTeacher", **teacher_cfg)).to(device)
    ds_cfg = dict(cfg.train_dataloader.dataset)
    ds_cfg.update(cache_dir=None, image_size=teacher.image_size, load_images=True)
    dataset = DATASETS.build(ds_cfg)
    cache = PrefixCache(cache_dir)
    cache.open_for_writing(json.loads(json.dumps(teacher_cfg, default=str)), teacher.target_shape)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    todo = [i for i in infos if not cache.has(i["scene_id"], i["frame"])]
    log(f"[cache_clipcap_prefixes] {len(infos)} pairs, {len(infos) - len(todo)} cached, {len(todo)} to do -> {cache_dir}")
    for s in range(0, len(todo), batch_size):
        chunk = todo[s:s + batch_size]
        images = torch.stack([clip_preprocess(load_pair_npz(i["path"])["color"], teacher.image_size) for i in chunk])
        with torch.no_grad():
            targets = teacher(images.to(device)).float().cpu().numpy()
        for info, t in zip(chunk, targets):
            cache.write(info["scene_id"], info["frame"], t)
    return dict(total=len(infos), written=len(todo), skipped=len(infos) - len(todo))


def main(argv=None) -> int:
    from mmengine.config import Config

    a = parse_args(argv)
    if not os.path.isfile(a.config):
        raise FileNotFoundError(f"{a.config}: config file not found")
    cfg = Config.fromfile(a.config)
    if a.cfg_options:
        cfg.merge_from_dict(a.cfg_options)
    res = cache_prefixes(cfg, a.cache_dir, a.batch_size, a.device)
    print(f"[cache_clipcap_prefixes] wrote {res['written']}, kept {res['skipped']} of {res['total']} entries")
    return 0


if __name__ == "__main__":
    from voxclip.engine.cli import run_cli

    run_cli(lambda: sys.exit(main()))
