"""VoteNet detector: a sparse voxel backbone (SR-UNet) followed by the VoteNet head."""
from __future__ import annotations

import torch
from mmengine.model import BaseModel

from voxclip.models.text4point.guidance import Text4PointGuidedMixin
from voxclip.registry import MODELS

from .outputs import predictions_with_ground_truth


@MODELS.register_module()
class VoteNetDetector(Text4PointGuidedMixin, BaseModel):
    """Backbone on voxels, VoteNet head on points; optionally language-guided (Text4Point Sec. 3.4).

    Args:
        backbone: config of a module mapping SparseTensor -> output with `.features` (SparseTensor
            on the input coordinates), e.g. dict(type='SRUNet', in_channels=4, out_channels=96, arch='14A'),
            or a Text4PointSRUNet (then `text` is required). An `init_cfg=dict(type='Pretrained',
            checkpoint=PATH, prefix='backbone.', producer=CONFIG)` in it loads pretrained weights in
            init_weights() (voxclip.models.text4point.guidance).
        head: config of the head, e.g. dict(type='VoteHead', num_classes=18, in_channels=96, mean_sizes=...).
        text: text source config (PromptLearner / FixedPrompts over the detection class names); its
            embeddings feed the Text4PointSRUNet's Text Querying Module.
        aux_loss: dict(weight=1.0, tau=0.07, radius=None, p=inf, label_key='semantic'): adds
            `loss_text_aux` (Eq. 15-16) from per-point labels `data_samples[i][label_key]` (detection
            class of each point, -1 none; see PointLabelsFromInstances / PointLabelsFromBoxes).
        data_preprocessor, init_cfg: as mmengine.model.BaseModel.

    forward(inputs, data_samples, mode) takes the batch of voxclip.datasets.sparse_collate:
    'loss' -> dict of losses; 'predict' -> one dict per sample with boxes (K, 7), labels (K,),
    scores (K,) (CPU tensors) plus gt_boxes, gt_labels (and meta when present) from the sample;
    'tensor' -> the head's raw prediction dict.
    """

    def __init__(self, backbone: dict, head: dict, text: dict | None = None, aux_loss: dict | None = None,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self._build_guided_backbone(backbone, text, aux_loss)
        self.head = MODELS.build(head)

    def _head_outputs(self, inputs: dict, data_samples: list | None):
        """-> (head predictions, backbone output, text embeddings or None)."""
        voxel_feats, out, text = self._backbone_features(inputs, ("feats", "coords", "points", "point_batch", "inverse"))
        batch_size = len(data_samples) if data_samples else int(inputs["point_batch"].max()) + 1
        preds = self.head(voxel_feats, inputs["points"], inputs["point_batch"], inputs["inverse"], batch_size)
        return preds, out, text

    def forward(self, inputs: dict, data_samples: list | None = None, mode: str = "tensor"):
        preds, out, text = self._head_outputs(inputs, data_samples)
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
            losses = self.head.loss(preds, [s["gt_boxes"] for s in data_samples],
                                    [s["gt_labels"] for s in data_samples], point_instance, box_instance)
            losses.update(self._text_aux_losses(out, text, inputs, data_samples))
            return losses
        if mode == "predict":
            results = self.head.predict(preds, inputs["points"], inputs["point_batch"])
            return predictions_with_ground_truth(results, data_samples)
        raise ValueError(f"VoteNetDetector: unknown mode {mode!r} (expected 'tensor', 'loss' or 'predict')")
