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
from voxclip.registry import MODELS

from .box_coder import decode_boxes
from .criterion import SetCriterion
from .decoder import TransformerDecoder
from .matcher import HungarianMatcher
from .position_encoding import FourierPositionEncoding
from .postprocess import DEFAULT_TEST_CFG, parse_predictions

__all__ = ["DETR3DHead"]


def _pred_mlp(dim: int, hidden: int, out: int, dropout: float) -> nn.Module:
    # 3DETR GenericMLP(norm bn1d, hidden_use_bias=False): the bias before BatchNorm is redundant.
    return nn.Sequential(
        nn.Linear(dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
        nn.Linear(hidden, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
        nn.Linear(hidden, out))


class TokenBatchNorm(nn.BatchNorm1d):
    """BatchNorm1d over the channels of (B, M, C) tokens (3DETR's conv-MLP on (B, C, M))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


def memory_projection(kind: str, in_channels: int, dim: int, hidden: tuple = (256, 256)) -> nn.Module:
    """Encoder-to-decoder projection of the tokens (B, M, C_in) -> (B, M, dim).

    'conv_bn' (3DETR encoder_to_decoder_projection: per-token linear layers (= 1x1 conv) without bias,
    each followed by BatchNorm + ReLU, output layer included); 'mlp' (voxclip's earlier
    Linear-ReLU-Linear)."""
    if kind == "mlp":
        return nn.Sequential(nn.Linear(in_channels, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim))
    if kind != "conv_bn":
        raise ValueError(f"DETR3DHead: memory_proj must be 'conv_bn' or 'mlp', got {kind!r}")
    layers, prev = [], in_channels
    for width in (*hidden, dim):
        layers += [nn.Linear(prev, width, bias=False), TokenBatchNorm(width), nn.ReLU(inplace=True)]
        prev = width
    return nn.Sequential(*layers)


@MODELS.register_module()
class DETR3DHead(nn.Module):
    """Defaults are the released 3DETR ScanNet model (models/model_3detr.py, main.py arguments).

    Args:
        num_classes: C (the classifier has C + 1 outputs, the last one = no object).
        in_channels: width of the encoder features.
        dim, num_heads, ffn_dim, dropout, num_decoder_layers: decoder (3DETR: 256, 4, 256, 0.1, 8).
        num_queries: FPS-sampled queries (3DETR: 256 ScanNet, 128 SUN RGB-D).
        num_angle_bins: yaw bins (1 = no yaw, ScanNet; 12 SUN RGB-D).
        mlp_hidden, mlp_dropout: prediction MLPs (256, 0.3).
        gauss_scale, pos_seed: Fourier encoding.
        memory_proj, memory_proj_hidden: encoder-to-decoder projection ('conv_bn' with hidden widths
            memory_proj_hidden, default (in_channels, in_channels) as 3DETR's [enc_dim, enc_dim];
            'mlp' = voxclip's earlier Linear-ReLU-Linear).
        center_offset: 'metric' (3DETR: query + sigmoid - 0.5 metres) | 'normalized' (earlier rule).
        decoder_init: 'xavier_uniform' (3DETR) | 'default' (PyTorch's own initialisation).
        matcher: cost weights cls / objectness / center / giou.
        loss_weights: cls, no_object, center, size, giou, angle_cls, angle_reg.
        test_cfg: see heads.detr3d.postprocess (score_thr, nms_iou, per_class_proposal,
            remove_empty_box, min_points_in_box, nms_axis_aligned, max_per_scene).
    """

    def __init__(self, num_classes: int, in_channels: int, dim: int = 256, num_queries: int = 256,
                 num_decoder_layers: int = 8, num_heads: int = 4, ffn_dim: int = 256, dropout: float = 0.1,
                 num_angle_bins: int = 1, mlp_hidden: int = 256, mlp_dropout: float = 0.3,
                 gauss_scale: float = 1.0, pos_seed: int = 0, memory_proj: str = "conv_bn",
                 memory_proj_hidden: tuple | None = None, center_offset: str = "metric",
                 decoder_init: str = "xavier_uniform", matcher: dict | None = None,
                 loss_weights: dict | None = None, test_cfg: dict | None = None, fps_backend: str = "auto"):
        super().__init__()
        self.num_classes, self.num_queries, self.num_angle_bins = num_classes, num_queries, num_angle_bins
        self.fps_backend = fps_backend
        if center_offset not in ("metric", "normalized"):
            raise ValueError(f"DETR3DHead: center_offset must be 'metric' or 'normalized', got {center_offset!r}")
        self.center_offset = center_offset
        self.pos_enc = FourierPositionEncoding(dim, 3, gauss_scale, pos_seed)
        hidden = (in_channels, in_channels) if memory_proj_hidden is None else tuple(memory_proj_hidden)
        self.memory_proj = memory_projection(memory_proj, in_channels, dim, hidden)
        self.query_proj = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim), nn.ReLU(inplace=True))
        self.decoder = TransformerDecoder(num_decoder_layers, dim, num_heads, ffn_dim, dropout)
        if decoder_init == "xavier_uniform":  # 3DETR TransformerDecoder._reset_parameters
            for p in self.decoder.parameters():
                if p.dim() > 1:
                    nn.init.xavier_uniform_(p)
        elif decoder_init != "default":
            raise ValueError(f"DETR3DHead: decoder_init must be 'xavier_uniform' or 'default', got {decoder_init!r}")
        outs = dict(sem_cls=num_classes + 1, center=3, size=3, angle_cls=num_angle_bins, angle_res=num_angle_bins)
        self.pred_heads = nn.ModuleDict({k: _pred_mlp(dim, mlp_hidden, n, mlp_dropout) for k, n in outs.items()})
        self.criterion = SetCriterion(num_classes, num_angle_bins, HungarianMatcher(**(matcher or {})), loss_weights)
        self.test_cfg = {**DEFAULT_TEST_CFG, **(test_cfg or {})}
        unknown = set(self.test_cfg) - set(DEFAULT_TEST_CFG)
        if unknown:
            raise KeyError(f"DETR3DHead: unknown test_cfg key(s) {sorted(unknown)}; known: {sorted(DEFAULT_TEST_CFG)}")

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
        preds = []
        for li in range(n_layers):
            p = decode_boxes({k: v[li] for k, v in raw_all.items()}, query_xyz, pc_min, pc_max, self.num_angle_bins,
                             self.center_offset)
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
    def predict(self, preds: list[dict], points: list[torch.Tensor] | None = None) -> list[dict]:
        """Final-layer boxes -> per sample dict(boxes (K, 7), labels (K,), scores (K,)).

        points: per-sample input points (N_b, 3) for the empty-box removal (skipped when None)."""
        p = preds[-1]
        results = []
        for b in range(p["boxes"].shape[0]):
            pts = None if points is None else points[b]
            results.append(parse_predictions(p["boxes"][b], p["objectness_prob"][b], p["sem_cls_prob"][b], pts,
                                             self.test_cfg))
        return results
