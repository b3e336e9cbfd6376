"""Semantic segmentation on a sparse voxel backbone (SR-UNet, optionally Text4Point-guided)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from voxclip.models.text4point.guidance import Text4PointGuidedMixin
from voxclip.registry import MODELS


@MODELS.register_module()
class SparseSegmentor(Text4PointGuidedMixin, BaseModel):
    """Backbone on voxels, a linear (1x1) classifier per voxel, logits mapped back to the points.

    Args:
        backbone: SRUNet / Text4PointSRUNet config (``init_cfg=dict(type='Pretrained', ...)``
            allowed, see voxclip.models.text4point.guidance).
        num_classes: K classes; labels are ``data_samples[i]['semantic']`` (N_i,), -1 = ignore.
        in_channels: backbone output channels (default: the backbone's ``out_channels``).
        text, aux_loss: Text4Point language guidance and auxiliary loss (as VoteNetDetector);
            the aux pseudo labels come from the same ``semantic`` labels.
        dropout: dropout before the classifier. ignore_index: label ignored by the losses.
        loss_weight: weight of ``loss_seg`` (point-wise cross-entropy).

    forward(inputs, data_samples, mode): 'tensor' -> point logits (N_total, K); 'loss' ->
    {'loss_seg', ['loss_text_aux']}; 'predict' -> one dict per sample with ``pred_semantic``
    (N_i,) int64 and ``gt_semantic`` (N_i,) (when the sample has ``semantic``), CPU tensors, and meta.
    """

    def __init__(self, backbone: dict, num_classes: int, in_channels: int | None = None,
                 text: dict | None = None, aux_loss: dict | None = None, dropout: float = 0.0,
                 ignore_index: int = -1, loss_weight: float = 1.0,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self._build_guided_backbone(backbone, text, aux_loss)
        if self.text is not None and len(self.text_class_names) != int(num_classes):
            raise ValueError(f"SparseSegmentor: text source has {len(self.text_class_names)} classes, "
                             f"num_classes is {num_classes}")
        channels = int(in_channels if in_channels is not None else backbone.get("out_channels"))
        self.num_classes, self.ignore_index, self.loss_weight = int(num_classes), int(ignore_index), float(loss_weight)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Linear(channels, self.num_classes)

    def _point_logits(self, inputs: dict):
        voxel_feats, out, text = self._backbone_features(inputs)
        logits = self.classifier(self.dropout(voxel_feats))
        return logits[inputs["inverse"]], out, text

    def forward(self, inputs: dict, data_samples: list | None = None, mode: str = "tensor"):
        logits, out, text = self._point_logits(inputs)
        if mode == "tensor":
            return logits
        if mode == "loss":
            if not data_samples or any("semantic" not in s for s in data_samples):
                raise ValueError("SparseSegmentor: mode='loss' needs data_samples with per-point 'semantic' "
                                 "(ScanNetSegmentation or with_semantic=True)")
            labels = torch.cat([torch.as_tensor(s["semantic"]).reshape(-1) for s in data_samples]).to(logits.device)
            if len(labels) != len(logits):
                raise ValueError(f"{len(labels)} point labels for {len(logits)} points")
            if len(labels) and int(labels.max()) >= self.num_classes:
                raise ValueError(f"SparseSegmentor: label {int(labels.max())} >= num_classes {self.num_classes}")
            if bool((labels != self.ignore_index).any()):
                loss = F.cross_entropy(logits, labels.long(), ignore_index=self.ignore_index)
            else:
                loss = logits.sum() * 0.0
            losses = {"loss_seg": loss * self.loss_weight}
            losses.update(self._text_aux_losses(out, text, inputs, data_samples))
            return losses
        if mode == "predict":
            pred = logits.argmax(1).cpu()
            batch = inputs["point_batch"].cpu() if "point_batch" in inputs else torch.zeros(len(pred), dtype=torch.long)
            n = len(data_samples) if data_samples else int(batch.max()) + 1 if len(batch) else 0
            results = []
            for b in range(n):
                item = {"pred_semantic": pred[batch == b]}
                if data_samples:
                    sample = data_samples[b]
                    if "semantic" in sample:
                        item["gt_semantic"] = torch.as_tensor(sample["semantic"]).reshape(-1).cpu()
                    if "meta" in sample:
                        item["meta"] = sample["meta"]
                results.append(item)
            return results
        raise ValueError(f"SparseSegmentor: unknown mode {mode!r} (expected 'tensor', 'loss' or 'predict')")
