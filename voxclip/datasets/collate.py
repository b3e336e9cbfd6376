"""Collate dataset items into one batch of the sparse contract (docs/architecture.md)."""
from __future__ import annotations

from typing import Sequence

import torch
from mmengine.registry import FUNCTIONS

_SAMPLE_KEYS = ("gt_boxes", "gt_labels", "gt_instance_ids", "instance", "semantic", "superpoint", "meta")


def sparse_collate(batch: Sequence[dict]) -> dict:
    """List of packed items -> {'inputs': {...}, 'data_samples': [...]}.

    inputs:
        coords int32 (V_total,4) rows (batch, x, y, z); feats (V_total,C); points (N_total,3);
        point_feats (N_total,C'); point_batch int64 (N_total,); inverse int64 (N_total,) indexing
        rows of coords (per-item offsets added); voxel_size float32 scalar tensor.
    data_samples: one dict per item with gt_boxes, gt_labels, instance / semantic when present
        (per point, the item's own point order) and meta.
    """
    if len(batch) == 0:
        raise ValueError("sparse_collate: empty batch")
    sizes = set()
    for i, item in enumerate(batch):
        missing = [k for k in ("points", "point_feats", "voxel_coords", "voxel_feats", "inverse")
                   if k not in item]
        if missing:
            raise KeyError(f"sparse_collate: item {i} lacks {missing} (end the pipeline with Voxelize and PackInputs)")
        sizes.add(float(item.get("meta", {}).get("voxel_size", float("nan"))))
    if len(sizes) != 1 or any(s != s for s in sizes):  # s != s: NaN, meta without voxel_size
        raise ValueError(f"sparse_collate: items need one common meta['voxel_size'], got {sorted(sizes)}")

    coords, inverse, point_batch = [], [], []
    offset = 0
    for b, item in enumerate(batch):
        vc = torch.as_tensor(item["voxel_coords"]).to(torch.int32)
        coords.append(torch.cat([torch.full((len(vc), 1), b, dtype=torch.int32), vc], dim=1))
        inverse.append(torch.as_tensor(item["inverse"]).to(torch.int64) + offset)
        point_batch.append(torch.full((len(item["points"]),), b, dtype=torch.int64))
        offset += len(vc)
    inputs = dict(
        coords=torch.cat(coords),
        feats=torch.cat([torch.as_tensor(it["voxel_feats"]) for it in batch]),
        points=torch.cat([torch.as_tensor(it["points"]) for it in batch]),
        point_feats=torch.cat([torch.as_tensor(it["point_feats"]) for it in batch]),
        point_batch=torch.cat(point_batch),
        inverse=torch.cat(inverse),
        voxel_size=torch.tensor(sizes.pop(), dtype=torch.float32),
    )
    data_samples = [{k: item[k] for k in _SAMPLE_KEYS if k in item} for item in batch]
    return dict(inputs=inputs, data_samples=data_samples)


# force: tolerate module reloads (importlib.reload, notebooks) without a duplicate-key error
FUNCTIONS.register_module(name="sparse_collate", module=sparse_collate, force=True)
