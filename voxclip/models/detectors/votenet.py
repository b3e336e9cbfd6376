"""VoteNet detector: a sparse voxel backbone (SR-UNet) followed by the VoteNet head."""
from __future__ import annotations

import torch
from mmengine.model import BaseModel

from voxclip.registry import MODELS
from voxclip.sparse import SparseTensor

from .outputs import predictions_with_ground_truth


@MODELS.register_module()
class VoteNetDetector(BaseModel):
    """Backbone on voxels, VoteNet head on points.

    Args:
        backbone: config of a module mapping SparseTensor -> output with `.features` (SparseTensor
            on the input coordinates), e.g. dict(type='SRUNet', in_channels=4, out_channels=96, arch='14A').
        head: config of the head, e.g. dict(type='VoteHead', num_classes=18, in_channels=96, mean_sizes=...).
        data_preprocessor, init_cfg: as mmengine.model.BaseModel.

    forward(inputs, data_samples, mode) takes the batch of voxclip.datasets.sparse_collate:
    'loss' -> dict of losses; 'predict' -> one dict per sample with boxes (K, 7), labels (K,),
    scores (K,) (CPU tensors) plus gt_boxes, gt_labels (and meta when present) from the sample;
    'tensor' -> the head's raw prediction dict.
    """

    def __init__(self, backbone: dict, head: dict, data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)

    def _head_outputs(self, inputs: dict, data_samples: list | None) -> dict:
        for key in ("feats", "coords", "points", "point_batch", "inverse"):
            if key not in inputs:
                raise KeyError(f"VoteNetDetector: batch inputs lack '{key}' (see docs/architecture.md)")
        x = SparseTensor(inputs["feats"], inputs["coords"])
        out = self.backbone(x)
        feats = out.features if hasattr(out, "features") else out
        voxel_feats = feats.feats if isinstance(feats, SparseTensor) else feats
        if voxel_feats.shape[0] != x.coords.shape[0]:
            raise ValueError(f"backbone returned {voxel_feats.shape[0]} rows for {x.coords.shape[0]} input voxels")
        batch_size = len(data_samples) if data_samples else int(inputs["point_batch"].max()) + 1
        return self.head(voxel_feats, inputs["points"], inputs["point_batch"], inputs["inverse"], batch_size)

    def forward(self, inputs: dict, data_samples: list | None = None, mode: str = "tensor"):
        preds = self._head_outputs(inputs, data_samples)
        if mode == "tensor":
            return preds
        if mode == "loss":
            if data_samples is None:
                raise ValueError("VoteNetDetector: mode='loss' needs data_samples with gt_boxes/gt_labels")
            point_instance = box_instance = None
            if all("instance" in s and "gt_instance_ids" in s for s in data_samples):
                # per-sample point order matches the collated `points` (sparse_collate concatenates)
                point_instance = torch.cat([torch.as_tensor(s["instance"]).reshape(-1) for s in data_samples])
                box_instance = [s["gt_instance_ids"] for s in data_samples]
            return self.head.loss(preds, [s["gt_boxes"] for s in data_samples],
                                  [s["gt_labels"] for s in data_samples], point_instance, box_instance)
        if mode == "predict":
            results = self.head.predict(preds, inputs["points"], inputs["point_batch"])
            return predictions_with_ground_truth(results, data_samples)
        raise ValueError(f"VoteNetDetector: unknown mode {mode!r} (expected 'tensor', 'loss' or 'predict')")
