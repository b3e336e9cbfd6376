"""3DETR detection head (Misra et al., ICCV 2021) on encoder tokens with 3D positions.

queries: FPS over the encoder token positions; their Fourier encodings through an MLP are the query
positional embeddings (targets start at zero). The decoder cross-attends to the projected encoder
features (with their own Fourier encodings). Shared MLP heads turn every decoder layer's output into
boxes; the final layer is used for inference and every layer is supervised.
"""
from __future__ import annotations

import torch
from torch import nn

from voxclip.ops.fps import farthest_point_sample
from voxclip.ops.nms import batched_nms3d
from voxclip.registry import MODELS

from .box_coder import decode_boxes
from .criterion import SetCriterion
from .decoder import TransformerDecoder
from .matcher import HungarianMatcher
from .position_encoding import FourierPositionEncoding, normalize_coords

__all__ = ["DETR3DHead"]


def _pred_mlp(dim: int, hidden: int, out: int, dropout: float) -> nn.Module:
    return nn.Sequential(
        nn.Linear(dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
        nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
        nn.Linear(hidden, out))


@MODELS.register_module()
class DETR3DHead(nn.Module):
    """Args:
        num_classes: C (the classifier has C + 1 outputs, the last one = no object).
        in_channels: width of the encoder features.
        dim, num_heads, ffn_dim, dropout, num_decoder_layers: decoder (3DETR: 256, 4, 256, 0.1, 8).
        num_queries: FPS-sampled queries (3DETR: 256 ScanNet, 128 SUN RGB-D).
        num_angle_bins: yaw bins (1 = no yaw, ScanNet; 12 SUN RGB-D).
        mlp_hidden, mlp_dropout: prediction MLPs (256, 0.3).
        gauss_scale, pos_seed: Fourier encoding.
        matcher: cost weights cls / objectness / center / giou.
        loss_weights: cls, no_object, center, size, giou, angle_cls, angle_reg.
        test_cfg: score_thr, nms_iou, per_class_proposal, max_per_scene.
    """

    def __init__(self, num_classes: int, in_channels: int, dim: int = 256, num_queries: int = 256,
                 num_decoder_layers: int = 8, num_heads: int = 4, ffn_dim: int = 256, dropout: float = 0.1,
                 num_angle_bins: int = 1, mlp_hidden: int = 256, mlp_dropout: float = 0.3,
                 gauss_scale: float = 1.0, pos_seed: int = 0, matcher: dict | None = None,
                 loss_weights: dict | None = None, test_cfg: dict | None = None, fps_backend: str = "auto"):
        super().__init__()
        self.num_classes, self.num_queries, self.num_angle_bins = num_classes, num_queries, num_angle_bins
        self.fps_backend = fps_backend
        self.pos_enc = FourierPositionEncoding(dim, 3, gauss_scale, pos_seed)
        self.memory_proj = nn.Sequential(nn.Linear(in_channels, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim))
        self.query_proj = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim), nn.ReLU(inplace=True))
        self.decoder = TransformerDecoder(num_decoder_layers, dim, num_heads, ffn_dim, dropout)
        outs = dict(sem_cls=num_classes + 1, center=3, size=3, angle_cls=num_angle_bins, angle_res=num_angle_bins)
        self.pred_heads = nn.ModuleDict({k: _pred_mlp(dim, mlp_hidden, n, mlp_dropout) for k, n in outs.items()})
        self.criterion = SetCriterion(num_classes, num_angle_bins, HungarianMatcher(**(matcher or {})), loss_weights)
        self.test_cfg = dict(score_thr=0.05, nms_iou=0.25, per_class_proposal=True, max_per_scene=256)
        self.test_cfg.update(test_cfg or {})

    def forward(self, enc_xyz: torch.Tensor, enc_feats: torch.Tensor, pc_min: torch.Tensor, pc_max: torch.Tensor,
                memory_mask: torch.Tensor | None = None) -> list[dict]:
        """enc_xyz (B, M, 3), enc_feats (B, M, C_in), scene bounds pc_min/pc_max (B, 3).
        Returns one decoded prediction dict per decoder layer (see box_coder.decode_boxes), last = final."""
        if enc_xyz.shape[:2] != enc_feats.shape[:2]:
            raise ValueError(f"DETR3DHead: {tuple(enc_xyz.shape)} positions for {tuple(enc_feats.shape)} features")
        with torch.no_grad():
            q_idx = farthest_point_sample(enc_xyz.detach(), self.num_queries, backend=self.fps_backend)
        query_xyz = torch.gather(enc_xyz, 1, q_idx[..., None].expand(-1, -1, 3))
        query_pos = self.query_proj(self.pos_enc(query_xyz, pc_min, pc_max))
        memory = self.memory_proj(enc_feats)
        memory_pos = self.pos_enc(enc_xyz, pc_min, pc_max)
        hs = self.decoder(torch.zeros_like(query_pos), memory, query_pos, memory_pos, memory_mask)  # (L, B, Q, D)
        n_layers, bsz, nq, d = hs.shape
        flat = hs.reshape(-1, d)
        raw_all = {k: h(flat).view(n_layers, bsz, nq, -1) for k, h in self.pred_heads.items()}
        query_norm = normalize_coords(query_xyz, pc_min, pc_max)
        preds = []
        for li in range(n_layers):
            p = decode_boxes({k: v[li] for k, v in raw_all.items()}, query_norm, pc_min, pc_max, self.num_angle_bins)
            p["query_xyz"] = query_xyz
            preds.append(p)
        return preds

    def loss(self, preds: list[dict], pc_min: torch.Tensor, pc_max: torch.Tensor,
             gt_boxes: list[torch.Tensor], gt_labels: list[torch.Tensor]) -> dict:
        device, dtype = pc_min.device, preds[-1]["boxes"].dtype
        scale = (pc_max - pc_min).clamp(min=1e-6)
        boxes = [torch.as_tensor(b, device=device, dtype=dtype).reshape(-1, 7) for b in gt_boxes]
        labels = [torch.as_tensor(lab, device=device).long().reshape(-1) for lab in gt_labels]
        for b, (bx, lab) in enumerate(zip(boxes, labels)):
            if bx.shape[0] != lab.shape[0]:
                raise ValueError(f"DETR3DHead.loss: sample {b} has {bx.shape[0]} boxes but {lab.shape[0]} labels")
            if lab.numel() and (int(lab.min()) < 0 or int(lab.max()) >= self.num_classes):
                raise ValueError(f"DETR3DHead.loss: sample {b} has labels outside [0, {self.num_classes})")
        targets = dict(
            gt_boxes=boxes, gt_labels=labels,
            gt_center_norm=[(bx[:, :3] - pc_min[b]) / scale[b] for b, bx in enumerate(boxes)],
            gt_size_norm=[bx[:, 3:6] / scale[b] for b, bx in enumerate(boxes)])
        return self.criterion(preds, targets)

    @torch.no_grad()
    def predict(self, preds: list[dict]) -> list[dict]:
        """Final-layer boxes -> per sample dict(boxes (K, 7), labels (K,), scores (K,)) after NMS."""
        p, cfg = preds[-1], self.test_cfg
        results = []
        for b in range(p["boxes"].shape[0]):
            boxes, obj, cls = p["boxes"][b], p["objectness_prob"][b], p["sem_cls_prob"][b]
            if cfg["per_class_proposal"]:
                # One candidate per (query, class), scored by P(class) * P(object) (3DETR/VoteNet eval).
                scores = (cls * obj[:, None]).reshape(-1)
                labels = torch.arange(self.num_classes, device=boxes.device).repeat(boxes.shape[0])
                boxes = boxes.repeat_interleave(self.num_classes, dim=0)
            else:
                prob, labels = cls.max(-1)
                scores = prob * obj
            keep = scores > cfg["score_thr"]
            boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
            if boxes.shape[0]:
                idx = batched_nms3d(boxes.float(), scores.float(), labels, cfg["nms_iou"])[: cfg["max_per_scene"]]
                boxes, scores, labels = boxes[idx], scores[idx], labels[idx]
            results.append(dict(boxes=boxes.float(), labels=labels.long(), scores=scores.float()))
        return results
