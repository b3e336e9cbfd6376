"""The last pipeline step: numpy working dict -> the torch item of the sample contract."""
from __future__ import annotations

import numpy as np
import torch

from voxclip.registry import TRANSFORMS

# contract key -> dtype (docs/architecture.md, "Sample and batch contract")
_REQUIRED = {
    "points": torch.float32,
    "point_feats": torch.float32,
    "voxel_coords": torch.int32,
    "voxel_feats": torch.float32,
    "inverse": torch.int64,
}
_OPTIONAL = {"instance": torch.int64, "semantic": torch.int64, "superpoint": torch.int64}


@TRANSFORMS.register_module()
class PackInputs:
    """Keep only the contract keys and convert them to tensors of the contract dtypes.

    Output: points, point_feats, voxel_coords, voxel_feats, inverse, gt_boxes (M,7) float32,
    gt_labels (M,) int64 (empty when the sample has none), instance / semantic and gt_instance_ids
    (M,) when present, meta.
    """

    def __call__(self, results: dict) -> dict:
        missing = [k for k in _REQUIRED if k not in results]
        if missing:
            raise KeyError(f"PackInputs: sample lacks {missing} (pipeline needs PointFeatures and Voxelize)")
        out = {k: torch.as_tensor(np.ascontiguousarray(results[k])).to(dt) for k, dt in _REQUIRED.items()}
        boxes = np.asarray(results.get("gt_boxes", np.zeros((0, 7))), dtype=np.float32).reshape(-1, 7)
        labels = np.asarray(results.get("gt_labels", np.zeros((0,))), dtype=np.int64).reshape(-1)
        if len(boxes) != len(labels):
            raise ValueError(f"PackInputs: {len(boxes)} boxes but {len(labels)} labels")
        out["gt_boxes"] = torch.from_numpy(np.ascontiguousarray(boxes))
        out["gt_labels"] = torch.from_numpy(np.ascontiguousarray(labels))
        if "gt_instance_ids" in results:  # instance id of each box (ScanNet vote targets)
            ids = np.asarray(results["gt_instance_ids"], dtype=np.int64).reshape(-1)
            if len(ids) != len(boxes):
                raise ValueError(f"PackInputs: {len(boxes)} boxes but {len(ids)} gt_instance_ids")
            out["gt_instance_ids"] = torch.from_numpy(np.ascontiguousarray(ids))
        for k, dt in _OPTIONAL.items():
            if k in results:
                out[k] = torch.as_tensor(np.ascontiguousarray(results[k])).to(dt).reshape(-1)
        out["meta"] = dict(results.get("meta", {}))
        return out

    def __repr__(self) -> str:
        return "PackInputs()"
