"""S4Token self-supervised pre-training on RGB-D 2D-3D pairs (paper Fig. 1), as an mmengine model.

Per batch (voxclip.datasets.RGBDPairs + rgbd_pairs_collate; the points are the frame's voxel
centres, their colour the first feature channels):

  superpoints  point_superpoints (kNN graph, normals + colour) of each frame, computed here
  teacher      EMA tokenizer + EMA assignment head over ALL tokens -> frozen CLIP ViT -> h_t;
               Q = Sinkhorn-Knopp(cos(head(h_t), prototypes)) over the batch's tokens
  student      a random ``mask_ratio`` of each cloud's tokens is masked; the visible ones go through
               the same frozen CLIP ViT -> h_v; the query decoder predicts the masked ones -> h^
  loss_assign  CE(Q_masked, softmax(cos(head(h^), prototypes) / student_temp))
  loss_rec     1 - cos(rec_head(h^), h_t masked)          (masked feature reconstruction)
  loss_distill 1 - cos(proj(h_v), f_2D): f_2D = the frozen CLIP ViT's dense patch features of the
               colour frame, sampled (bilinear) where the visible patch's points project, averaged
               over the patch ('patch_mean') or taken at the anchor ('anchor')
  EMA          after every optimiser step, teacher <- m teacher + (1 - m) student, m on a cosine
               schedule from ``momentum`` to ``momentum_final`` over ``momentum_iters`` iterations.

The student is stored as ``tokenizer`` and ``encoder`` (the frozen CLIP, a FrozenTower: its
weights are not in the checkpoint), as every voxclip pretrainer does.
"""
from __future__ import annotations

import copy
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from voxclip.ops.camera import project_points
from voxclip.ops.superpoints import point_superpoints
from voxclip.registry import MODELS

from .decoder import QueryDecoder
from .ema import cosine_momentum, ema_update_
from .losses import assignment_loss, cosine_loss
from .sinkhorn import sinkhorn_knopp

__all__ = ["S4TokenPretrainer", "AssignHead", "frame_superpoints", "sample_dense"]


class AssignHead(nn.Module):
    """MLP projection to ``dim`` + K prototypes; logits = cos(projection, prototype)."""

    def __init__(self, in_dim: int, num_prototypes: int = 64, dim: int = 128, hidden: int = 256):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.prototypes = nn.Linear(dim, num_prototypes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = F.normalize(self.mlp(x), dim=-1)
        return F.linear(z, F.normalize(self.prototypes.weight, dim=-1))


def frame_superpoints(points: torch.Tensor, batch: torch.Tensor, colors: Optional[torch.Tensor],
                      **cfg) -> torch.Tensor:
    """Superpoint ids (N,) of a flat batch, computed per cloud and offset so they never collide."""
    out = torch.empty(len(points), dtype=torch.long)
    offset = 0
    pts, b_np = points.detach().cpu().numpy(), batch.cpu().numpy()
    col = colors.detach().cpu().numpy() if colors is not None else None
    for b in np.unique(b_np):
        m = b_np == b
        sp = point_superpoints(pts[m], None if col is None else col[m], **cfg)
        out[torch.from_numpy(np.nonzero(m)[0])] = torch.from_numpy(sp + offset)
        offset += int(sp.max()) + 1 if len(sp) else 0
    return out.to(points.device)


def sample_dense(feat: torch.Tensor, points: torch.Tensor, pose: torch.Tensor, intrinsic: torch.Tensor,
                 image_hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(E, g, g') map of an (H, W) image, (P, 3) world points -> (P, E) bilinear samples and (P,) visibility."""
    h, w = image_hw
    uv, z = project_points(points, pose, intrinsic)
    valid = (z > 0) & (uv[:, 0] >= -0.5) & (uv[:, 0] <= w - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] <= h - 0.5)
    # pixel centres at integer uv: normalised x = (u + 0.5) / W * 2 - 1 (align_corners=False)
    grid = torch.stack([(uv[:, 0] + 0.5) / w * 2 - 1, (uv[:, 1] + 0.5) / h * 2 - 1], -1).to(feat.dtype)
    out = F.grid_sample(feat[None], grid[None, None], mode="bilinear", align_corners=False)[0, :, 0]
    return out.t(), valid


@MODELS.register_module()
class S4TokenPretrainer(BaseModel):
    """Args:
        tokenizer: S4Tokenizer config (embed_dim = CLIP width). encoder: FrozenPointViT config.
        image_encoder: CLIPViTDenseEncoder config (the distillation targets; None = no distillation).
        decoder: QueryDecoder options (depth, num_heads). num_prototypes, proto_dim, head_hidden.
        mask_ratio: fraction of tokens masked per cloud. teacher_temp (Sinkhorn eps), student_temp,
        sinkhorn_iters. momentum, momentum_final, momentum_iters (None: constant ``momentum``).
        loss_weights: dict(assign, rec, distill). distill_target: 'patch_mean' | 'anchor'.
        feat_channels: (start, stop) of the input feature columns given to the tokenizer (colour).
        superpoints: point_superpoints options (k, k_thresh, min_size, color_weight).
    """

    def __init__(self, tokenizer: dict, encoder: dict, image_encoder: Optional[dict] = None,
                 decoder: Optional[dict] = None, num_prototypes: int = 64, proto_dim: int = 128,
                 head_hidden: int = 256, mask_ratio: float = 0.6, teacher_temp: float = 0.05,
                 student_temp: float = 0.1, sinkhorn_iters: int = 3, momentum: float = 0.996,
                 momentum_final: float = 1.0, momentum_iters: Optional[int] = None,
                 loss_weights: Optional[dict] = None, distill_target: str = "patch_mean",
                 feat_channels: tuple = (0, 3), superpoints: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.tokenizer = MODELS.build(dict(tokenizer, type=tokenizer.get("type", "S4Tokenizer")))
        self.encoder = MODELS.build(dict(encoder, type=encoder.get("type", "FrozenPointViT")))
        width = self.encoder.width
        if self.tokenizer.embed_dim != width:
            raise ValueError(f"S4TokenPretrainer: tokenizer embed_dim {self.tokenizer.embed_dim} != CLIP width {width}")
        self.image_encoder = None
        if image_encoder is not None:
            self.image_encoder = MODELS.build(dict(image_encoder, type=image_encoder.get("type", "CLIPViTDenseEncoder")))
            if self.image_encoder.embed_dim != self.encoder.embed_dim:
                raise ValueError(f"S4TokenPretrainer: image embed_dim {self.image_encoder.embed_dim} != point "
                                 f"embed_dim {self.encoder.embed_dim}")
        self.decoder = QueryDecoder(width, **dict(decoder or {}))
        self.head = AssignHead(width, num_prototypes, proto_dim, head_hidden)
        self.rec_head = nn.Linear(width, width)
        self.teacher_tokenizer = copy.deepcopy(self.tokenizer)
        self.teacher_head = copy.deepcopy(self.head)
        for p in list(self.teacher_tokenizer.parameters()) + list(self.teacher_head.parameters()):
            p.requires_grad_(False)
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f"S4TokenPretrainer: mask_ratio must be in (0, 1), got {mask_ratio}")
        if distill_target not in ("patch_mean", "anchor"):
            raise ValueError(f"S4TokenPretrainer: distill_target must be 'patch_mean' or 'anchor', got {distill_target!r}")
        self.mask_ratio, self.teacher_temp, self.student_temp = float(mask_ratio), float(teacher_temp), float(student_temp)
        self.sinkhorn_iters, self.distill_target = int(sinkhorn_iters), distill_target
        self.momentum, self.momentum_final = float(momentum), float(momentum_final)
        self.momentum_iters = None if momentum_iters is None else int(momentum_iters)
        self.register_buffer("ema_step", torch.zeros((), dtype=torch.long))
        w = dict(assign=1.0, rec=1.0, distill=1.0)
        unknown = set(loss_weights or {}) - set(w)
        if unknown:
            raise ValueError(f"S4TokenPretrainer: unknown loss_weights keys {sorted(unknown)} (assign, rec, distill)")
        w.update(loss_weights or {})
        self.loss_weights = w
        self.feat_channels = tuple(int(c) for c in feat_channels)
        self.superpoint_cfg = {**dict(k=10, k_thresh=0.01, min_size=20, color_weight=0.5), **dict(superpoints or {})}

    # ---- EMA -------------------------------------------------------------------------------------
    def current_momentum(self) -> float:
        if self.momentum_iters is None:
            return self.momentum
        return cosine_momentum(int(self.ema_step), self.momentum_iters, self.momentum, self.momentum_final)

    @torch.no_grad()
    def update_teacher(self) -> float:
        m = self.current_momentum()
        ema_update_(self.teacher_tokenizer, self.tokenizer, m)
        ema_update_(self.teacher_head, self.head, m)
        self.ema_step += 1
        return m

    def train_step(self, data, optim_wrapper):
        log_vars = super().train_step(data, optim_wrapper)
        log_vars["momentum"] = self.update_teacher()  # after every optimiser step (paper Fig. 1)
        return log_vars

    # ---- forward ---------------------------------------------------------------------------------
    def _points(self, inputs: dict):
        points, batch = inputs["centres"], inputs["coords"][:, 0].long()
        a, b = self.feat_channels
        feats = inputs["feats"][:, a:b] if b > a else None
        sp = inputs.get("superpoint")
        if sp is None:
            sp = frame_superpoints(points, batch, feats, **self.superpoint_cfg)
        return points, batch, feats, sp

    def _mask(self, bsz: int, m: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, Mm) masked and (B, Mv) visible token indices, a random split per cloud."""
        n_mask = min(max(1, int(round(m * self.mask_ratio))), m - 1)
        perm = torch.argsort(torch.rand(bsz, m, device=device), dim=1)
        return perm[:, :n_mask], perm[:, n_mask:]

    def _distill_targets(self, inputs: dict, points, batch, tok, vis) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, Mv, E) 2D targets of the visible tokens and (B, Mv) validity."""
        images = inputs["images"]
        dense = self.image_encoder(images)  # (B, E, g, g), no autograd
        hw = tuple(images.shape[-2:])
        targets, valid = [], []
        for b in range(images.shape[0]):
            pts = points[batch == b]
            idx = tok.patch_idx[b][vis[b]] if self.distill_target == "patch_mean" else tok.anchor_idx[b][vis[b]][:, None]
            f, ok = sample_dense(dense[b], pts[idx.reshape(-1)], inputs["pose"][b], inputs["color_intrinsic"][b], hw)
            f, ok = f.view(*idx.shape, -1), ok.view(idx.shape).to(f.dtype)
            cnt = ok.sum(1)
            targets.append((f * ok[..., None]).sum(1) / cnt.clamp_min(1)[:, None])
            valid.append(cnt > 0)
        return torch.stack(targets), torch.stack(valid)

    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = "tensor"):
        if mode == "loss":
            return self.loss(inputs)
        if mode in ("tensor", "predict"):
            points, batch, feats, sp = self._points(inputs)
            tok = self.tokenizer(points, batch, feats, sp)
            cls, h = self.encoder(tok.tokens + tok.pos)
            return dict(tokens=h, projected=self.encoder.project(h), centers=tok.centers, superpoint=sp)
        raise ValueError(f"S4TokenPretrainer: unknown mode {mode!r} (loss, tensor, predict)")

    def loss(self, inputs: dict) -> dict:
        points, batch, feats, sp = self._points(inputs)
        # teacher: all tokens, no gradient
        with torch.no_grad():
            t_tok = self.teacher_tokenizer(points, batch, feats, sp)
            _, h_t = self.encoder(t_tok.tokens + t_tok.pos)
            t_logits = self.teacher_head(h_t)  # (B, M, K)
            q = sinkhorn_knopp(t_logits.flatten(0, 1), self.teacher_temp, self.sinkhorn_iters).view_as(t_logits)
        # student: same anchors and patches, masked
        tok = self.tokenizer(points, batch, feats, sp, groups=self.tokenizer.groups_of(t_tok))
        bsz, m, d = tok.tokens.shape
        masked, vis = self._mask(bsz, m, tok.tokens.device)
        take = lambda x, i: torch.gather(x, 1, i[..., None].expand(-1, -1, x.shape[-1]))  # noqa: E731
        x = take(tok.tokens + tok.pos, vis)
        _, h_v = self.encoder(x)
        h_hat = self.decoder(take(tok.pos, masked), h_v, take(tok.pos, vis))
        losses = {}
        q_m = take(q, masked).flatten(0, 1)
        losses["loss_assign"] = self.loss_weights["assign"] * assignment_loss(
            q_m, self.head(h_hat).flatten(0, 1) / self.student_temp)
        losses["loss_rec"] = self.loss_weights["rec"] * cosine_loss(
            self.rec_head(h_hat).flatten(0, 1), take(h_t, masked).flatten(0, 1))
        if self.image_encoder is not None and self.loss_weights["distill"] > 0:
            target, ok = self._distill_targets(inputs, points, batch, tok, vis)
            pred = self.encoder.project(h_v)
            losses["loss_distill"] = self.loss_weights["distill"] * cosine_loss(pred[ok], target[ok])
        return losses

