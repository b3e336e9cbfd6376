"""S4Token tokenizer: WFPS anchors, superpoint-guided patches, scale-normalised mini-PointNet tokens.

Per cloud: anchors = WFPS(points, superpoints, gamma); patches = superpoint_groups; patch
coordinates normalised by the patch radius (+ optional per-point features, e.g. colour); token =
MiniPointNet (voxclip.models.tokenizers, shared with Point-MAE/EPCL) to the CLIP width; positional
embedding = MLP of the scene-normalised anchor position. Nothing depends on the metric scale.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from voxclip.models.tokenizers import MiniPointNet, split_by_batch
from voxclip.registry import MODELS

from .grouping import normalise_anchors, normalise_patches, superpoint_groups
from .wfps import weighted_fps

__all__ = ["S4Tokenizer", "S4TokenizerOutput"]


@dataclass
class S4TokenizerOutput:
    """tokens, pos (B, M, D); centers (B, M, 3) anchors (input frame); anchors_norm (B, M, 3);
    anchor_idx (B, M) and patch_idx (B, M, K): indices into each sample's own point list."""

    tokens: torch.Tensor
    pos: torch.Tensor
    centers: torch.Tensor
    anchors_norm: torch.Tensor
    anchor_idx: torch.Tensor
    patch_idx: torch.Tensor


@MODELS.register_module()
class S4Tokenizer(nn.Module):
    """Args:
        num_tokens: M anchors per cloud. patch_size: K points per patch. embed_dim: CLIP width.
        gamma: WFPS exponent (0 = plain FPS; paper: 0.2-0.6 best).
        grouping: 'superpoint' (penalised kNN, see grouping.py) or 'knn' (Point-MAE's patches).
        outside_penalty: lambda of the superpoint grouping (inf: own superpoint first).
        patch_norm: 'max' | 'rms' | 'none' (patch radius normalisation). pos_norm: 'rms' | 'bbox' | 'none'.
        in_feat_channels: per-point features appended to the normalised xyz (e.g. 3 for colour).
        pointnet_hidden, pos_hidden: widths of the mini-PointNet and the positional MLP.
    """

    def __init__(self, num_tokens: int = 512, patch_size: int = 32, embed_dim: int = 768, gamma: float = 0.4,
                 grouping: str = "superpoint", outside_penalty: float = 2.0, patch_norm: str = "max",
                 pos_norm: str = "rms", in_feat_channels: int = 0, pointnet_hidden: tuple = (128, 256),
                 pos_hidden: int = 128, fps_backend: str = "auto"):
        super().__init__()
        if grouping not in ("superpoint", "knn"):
            raise ValueError(f"S4Tokenizer: grouping must be 'superpoint' or 'knn', got {grouping!r}")
        self.num_tokens, self.patch_size, self.embed_dim = int(num_tokens), int(patch_size), int(embed_dim)
        self.gamma, self.grouping, self.outside_penalty = float(gamma), grouping, float(outside_penalty)
        self.patch_norm, self.pos_norm = patch_norm, pos_norm
        self.in_feat_channels, self.fps_backend = int(in_feat_channels), fps_backend
        self.embed = MiniPointNet(3 + self.in_feat_channels, self.embed_dim, tuple(pointnet_hidden))
        self.pos_embed = nn.Sequential(nn.Linear(3, pos_hidden), nn.GELU(), nn.Linear(pos_hidden, self.embed_dim))

    @torch.no_grad()
    def group(self, points: torch.Tensor, superpoint: torch.Tensor | None):
        """One cloud -> (anchor_idx (M,), patch_idx (M, K))."""
        anchor = weighted_fps(points, superpoint, self.num_tokens, self.gamma, self.fps_backend)
        sp = superpoint if self.grouping == "superpoint" else None
        return anchor, superpoint_groups(points, anchor, self.patch_size, sp, self.outside_penalty)

    @staticmethod
    def groups_of(out: "S4TokenizerOutput") -> list:
        """The per-cloud (anchor_idx, patch_idx) of an output, to pass back as ``groups``."""
        return list(zip(out.anchor_idx, out.patch_idx))

    def forward(self, points: torch.Tensor, batch: torch.Tensor | None = None, feats: torch.Tensor | None = None,
                superpoint: torch.Tensor | None = None, batch_size: int | None = None,
                groups: list | None = None) -> S4TokenizerOutput:
        """points flat (N_total, 3) with `batch` (N_total,) (None: one cloud); feats (N_total, C) when
        in_feat_channels > 0; superpoint (N_total,) ids, unique within each cloud; groups: the
        (anchor_idx, patch_idx) of each cloud from an earlier call (teacher and student share them)."""
        if self.in_feat_channels and (feats is None or feats.shape[-1] != self.in_feat_channels):
            raise ValueError(f"S4Tokenizer: in_feat_channels={self.in_feat_channels} needs feats with that many "
                             f"channels, got {None if feats is None else tuple(feats.shape)}")
        if batch is None:
            batch = torch.zeros(points.shape[0], dtype=torch.long, device=points.device)
        if superpoint is not None and superpoint.shape[0] != points.shape[0]:
            raise ValueError(f"S4Tokenizer: {superpoint.shape[0]} superpoint ids for {points.shape[0]} points")
        clouds = split_by_batch(points, batch, batch_size, feats if self.in_feat_channels else None)
        masks = [batch == b for b in range(len(clouds))]  # split_by_batch keeps this order
        patches, centres, anchors_n, aidx, pidx = [], [], [], [], []
        for i, (pts, f) in enumerate(clouds):
            sp = superpoint[masks[i]].long() if superpoint is not None else None
            a, idx = self.group(pts, sp) if groups is None else groups[i]
            c = pts[a]
            rel = normalise_patches(pts, c, idx, self.patch_norm)
            patches.append(torch.cat([rel, f[idx]], -1) if self.in_feat_channels else rel)
            centres.append(c)
            anchors_n.append(normalise_anchors(pts, c, self.pos_norm))
            aidx.append(a)
            pidx.append(idx)
        centres_t, anchors_t = torch.stack(centres), torch.stack(anchors_n)
        bsz, m = centres_t.shape[:2]
        tokens = self.embed(torch.cat(patches)).view(bsz, m, self.embed_dim)
        return S4TokenizerOutput(tokens=tokens, pos=self.pos_embed(anchors_t), centers=centres_t,
                                 anchors_norm=anchors_t, anchor_idx=torch.stack(aidx), patch_idx=torch.stack(pidx))
