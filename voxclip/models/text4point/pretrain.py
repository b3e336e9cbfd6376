"""Text4Point pre-training (paper Sec. 3.3, 4.1, appendix C) as an mmengine model.

Per batch of 2D-3D pairs (voxclip.datasets.RGBDPairs + rgbd_pairs_collate):

    h2D = f2D(C)            frozen CLIP dense image encoder, (B, D, h, w), h, w = H/32, W/32
    t   = FixedPrompts()    frozen text embeddings of the pre-training classes, (K, D)
    Text4PointSRUNet(V, t): h3D (stride-16 bottleneck), ĥ3D = FC_expand(h3D) (M, D),
                            z3D (N, C) on the input voxels (TQM between encoder and decoder)
    z2D = g2D(h2D)          (B, C, H, W) (Text4PointDecoder2D); depth = depth_head(z2D) (B, H, W)

    loss_enc   = w_enc   * Eq.14(h2D, ĥ3D)  over encoder-level pixel-voxel pairs
    loss_dec   = w_dec   * Eq.14(z2D, z3D)  over decoder-level pairs
    loss_depth = w_depth * L1(depth, depth frame on the colour pixels), pixels with depth 0 masked

Correspondences (Eq. 2), per frame: ``voxel_pixel_correspondences`` on the stride-1 voxel centres
with the (augmented) pose, the colour intrinsic, the depth frame times ``depth_scale`` (the
dataset's scale augmentation; see RGBDPairs) and its intrinsic, tolerance ``corr_tol`` (2 cm).
This gives fine pairs (voxel row, pixel v*W+u):

- decoder level: the fine pairs themselves (z3D row, z2D pixel).
- encoder level (``enc_pairs='voxel'``, default): the paper projects each voxel of the encoder output
  and pairs it with its pixel. A stride-16 voxel (40 cm at 2.5 cm voxels) is not a surface point, so
  its pixel is taken from its fine voxels' correspondences: each coarse voxel seen in the frame gets
  ONE cell of the /32 map, the cell holding most of its fine correspondences (ties: the smallest
  cell index). S then holds each coarse voxel once; several voxels can share a cell, and those pairs
  are positives of each other in Eq. 14 (``positive_mask``: same cell), not negatives with
  identical logits. ``enc_pairs='lifted'`` keeps the earlier pairs described next.
- encoder level, 'lifted': each fine voxel -> its stride-16 parent, i.e. the bottleneck row whose coordinates
  are (b, floor(x/16)*16, floor(y/16)*16, floor(z/16)*16) (voxclip.sparse's SparseConv3d keeps
  floor(c / stride) * stride at each of the four stride-2 downsamplings, and nested floors compose:
  floor(floor(c/2)/8) = floor(c/16)); the pixel -> the cell (min(v // s, h-1), min(u // s, w-1)) of
  the /s map (s = ``feature_stride``, 32: a ResNet /32 cell covers pixels [32i, 32i+32); CLIP's
  floor-rounded map drops the last H - 32h rows, which we give to the last cell). Pairs are then
  deduplicated per frame: S holds each (parent voxel, cell) once. A voxel seen in several cells (or
  a cell over several voxels) then appears in several pairs, whose other members act as negatives
  in Eq. 14 with logits identical to the positive: a floor under the loss (log of the count).

Memory: each level keeps at most ``max_pairs`` pairs per batch (uniform random subset over the
whole batch; PointContrast's npos=4096, whose ScanNet recipe -- lr 0.1, batch 32, 2.5 cm, tau 0.4 --
the paper's settings match). Eq. 14 builds a (P, P) logit matrix.

Frozen parts: the CLIP image encoder (requires_grad False, always eval: its BatchNorm statistics
stay CLIP's) and the text embeddings (FixedPrompts holds only a non-persistent buffer).
Checkpoints: the CLIP image encoder leaves its weights out of ``state_dict()`` (they come from the
CLIP file at construction) and fills them back in on load (voxclip.models.clip.frozen), so strict
loading and mmengine's resume still work. The 3D model is the submodule
``backbone``: a fine-tuning model initialises its own ``backbone`` from this checkpoint with the key
prefix ``backbone.`` (Text4PointSRUNet: SR-UNet keys plus ``tqm.*``).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from mmengine.model import BaseModel

from voxclip import sparse as sp
from voxclip.registry import MODELS
from voxclip.sparse.kernel_map import linear_keys

from .correspondence import voxel_pixel_correspondences
from .decoder2d import Text4PointDecoder2D, Text4PointDepthHead  # noqa: F401  (registers them)
from .losses import depth_l1_loss, pixel_voxel_contrastive_loss

__all__ = ["Text4PointPretrainer", "lookup_rows", "parent_rows", "pixel_to_cell", "unique_pairs", "majority_cell"]



def lookup_rows(query: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Row of ``table`` (T,4) holding each row of ``query`` (Q,4); -1 where absent. Table rows unique."""
    if len(query) == 0:
        return torch.zeros(0, dtype=torch.int64, device=query.device)
    if len(table) == 0:
        return torch.full((len(query),), -1, dtype=torch.int64, device=query.device)
    both = torch.cat([query, table]).to(torch.int64)
    keys = linear_keys(both[:, 1:], both[:, 0], 0)[0]  # one bounding box for both sets
    qk, tk = keys[:len(query)], keys[len(query):]
    sorted_k, order = torch.sort(tk)
    pos = torch.searchsorted(sorted_k, qk).clamp_max(len(sorted_k) - 1)
    found = sorted_k[pos] == qk
    return torch.where(found, order[pos], torch.full_like(pos, -1))


def parent_rows(fine_coords: torch.Tensor, coarse: sp.SparseTensor) -> torch.Tensor:
    """Row in ``coarse`` (stride S) of the parent of each stride-1 voxel (N,4): the coarse voxel at
    (b, floor(x/S)*S, floor(y/S)*S, floor(z/S)*S). -1 if missing (cannot happen for the output of
    voxclip's SparseConv3d chain on these voxels)."""
    s = int(coarse.stride)
    fc = fine_coords.to(torch.int64)
    parent = torch.cat([fc[:, :1], torch.div(fc[:, 1:], s, rounding_mode="floor") * s], 1)
    return lookup_rows(parent, coarse.coords)


def pixel_to_cell(pixel: torch.Tensor, image_w: int, feat_hw: tuple[int, int], stride: Optional[int] = 32,
                  image_h: Optional[int] = None) -> torch.Tensor:
    """Flat image pixel ``v*W+u`` -> flat cell ``i*w+j`` of an (h, w) feature map.

    stride s: cell (min(v // s, h-1), min(u // s, w-1)); stride None: proportional,
    (floor((v+0.5) h / H), floor((u+0.5) w / W)) (needs image_h).
    """
    h, w = feat_hw
    v, u = torch.div(pixel, image_w, rounding_mode="floor"), pixel % image_w
    if stride is not None:
        i = torch.div(v, int(stride), rounding_mode="floor").clamp(0, h - 1)
        j = torch.div(u, int(stride), rounding_mode="floor").clamp(0, w - 1)
    else:
        if image_h is None:
            raise ValueError("pixel_to_cell: proportional mapping needs image_h")
        i = torch.floor((v.double() + 0.5) * h / image_h).long().clamp(0, h - 1)
        j = torch.floor((u.double() + 0.5) * w / image_w).long().clamp(0, w - 1)
    return i * w + j


def unique_pairs(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Distinct (a, b) pairs of two non-negative int64 vectors."""
    if len(a) == 0:
        return a, b
    m = int(b.max()) + 1
    key = torch.unique(a * m + b)
    return torch.div(key, m, rounding_mode="floor"), key % m


def majority_cell(voxel: torch.Tensor, cell: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One cell per distinct voxel: the cell it is paired with most often (ties: smallest cell).

    voxel, cell: (P,) non-negative int64 (one entry per fine correspondence) -> (voxels (V,), cells (V,)),
    voxels sorted."""
    if len(voxel) == 0:
        return voxel, cell
    v, c = unique_pairs(voxel, cell)  # distinct (voxel, cell), sorted by voxel then cell
    m = int(cell.max()) + 1
    counts = torch.bincount(torch.unique(voxel * m + cell, return_inverse=True)[1])  # same order as (v, c)
    # best per voxel: highest count, then smallest cell -> sort by (voxel, -count, cell), take the first
    order = torch.from_numpy(np.lexsort((c.cpu().numpy(), -counts.cpu().numpy(), v.cpu().numpy()))).to(v.device)
    v, c = v[order], c[order]
    first = torch.ones_like(v, dtype=torch.bool)
    first[1:] = v[1:] != v[:-1]
    return v[first], c[first]


def _subsample(n: int, k: Optional[int], device) -> Optional[torch.Tensor]:
    if k is None or n <= k:
        return None
    return torch.randperm(n, device=device)[:k]


@MODELS.register_module()
class Text4PointPretrainer(BaseModel):
    """Text4Point pre-training model (module docstring: losses, correspondences, checkpoints).

    Args:
        backbone: Text4PointSRUNet config (randomly initialised; ``embed_dim`` must equal the CLIP
            width D; its ``out_channels`` is C, the width z2D is decoded to).
        image_encoder: CLIPDenseImageEncoder config (frozen).
        text: FixedPrompts config (class names of the pre-training data; frozen).
        decoder2d: Text4PointDecoder2D config; in_channels / out_channels default to D / C.
        depth_head: Text4PointDepthHead config (in_channels defaults to C), or None to drop it
            (then loss_depth is not computed).
        tau: Eq. 14 temperature (0.4). corr_tol: Eq. 2 depth tolerance in metres (0.02).
        max_pairs: cap on pairs per batch at each level (None = all).
        feature_stride: pixels per cell of the CLIP map (32), or None for proportional mapping.
        enc_pairs: 'voxel' (one cell per coarse voxel, same-cell pairs as positives) | 'lifted'
            (earlier: every distinct (coarse voxel, cell) pair, duplicates as negatives).
        loss_weights: dict with enc, dec, depth (each 1.0 by default).
    forward(inputs, data_samples, mode): 'loss' -> dict(loss_enc, loss_dec, loss_depth,
        num_pairs_enc, num_pairs_dec); 'tensor' -> dict(z3d, expanded, bottleneck_coords, z2d,
        h2d, depth); 'predict' -> one dict per sample with its voxels' z3d and its depth map.
    """

    def __init__(self, backbone: dict, image_encoder: dict, text: dict, decoder2d: Optional[dict] = None,
                 depth_head: Optional[dict] = dict(type="Text4PointDepthHead"), tau: float = 0.4,
                 corr_tol: float = 0.02, max_pairs: Optional[int] = 4096, feature_stride: Optional[int] = 32,
                 loss_weights: Optional[dict] = None, enc_pairs: str = "voxel",
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.image_encoder = MODELS.build(image_encoder)  # a FrozenTower: no grad, always eval
        self.text = MODELS.build(text)
        for p in self.text.parameters():
            p.requires_grad_(False)
        self.backbone = MODELS.build(backbone)
        d = int(self.image_encoder.embed_dim)
        if getattr(self.backbone, "embed_dim", None) != d:
            raise ValueError(f"Text4PointPretrainer: backbone.embed_dim={getattr(self.backbone, 'embed_dim', None)} "
                             f"must equal the CLIP image embedding width {d}")
        if getattr(self.text, "embed_dim", d) != d:
            raise ValueError(f"Text4PointPretrainer: text embed_dim {self.text.embed_dim} != image embed_dim {d}")
        c = int(self.backbone.out_channels)
        dec = dict(decoder2d or dict(type="Text4PointDecoder2D"))
        dec.setdefault("type", "Text4PointDecoder2D")
        dec.setdefault("in_channels", d)
        dec.setdefault("out_channels", c)
        self.decoder2d = MODELS.build(dec)
        if self.decoder2d.out_channels != c:
            raise ValueError(f"Text4PointPretrainer: decoder2d.out_channels={self.decoder2d.out_channels} must equal "
                             f"backbone.out_channels={c} (z2D and z3D are compared)")
        self.depth_head = None
        if depth_head is not None:
            dh = dict(depth_head)
            dh.setdefault("in_channels", c)
            self.depth_head = MODELS.build(dh)
        self.tau, self.corr_tol = float(tau), float(corr_tol)
        self.max_pairs = None if max_pairs is None else int(max_pairs)
        self.feature_stride = feature_stride
        if enc_pairs not in ("voxel", "lifted"):
            raise ValueError(f"Text4PointPretrainer: enc_pairs must be 'voxel' or 'lifted', got {enc_pairs!r}")
        self.enc_pairs = enc_pairs
        w = dict(enc=1.0, dec=1.0, depth=1.0)
        unknown = set(loss_weights or {}) - set(w)
        if unknown:
            raise ValueError(f"Text4PointPretrainer: unknown loss_weights keys {sorted(unknown)} (enc, dec, depth)")
        w.update(loss_weights or {})
        self.loss_weights = w

    # ---- correspondences -----------------------------------------------------------------------
    @torch.no_grad()
    def correspondences(self, inputs: dict, bottleneck: sp.SparseTensor, feat_hw: tuple[int, int]):
        """-> (dec_vox, dec_pix, enc_vox, enc_cell): global row indices (fine voxels / bottleneck
        rows) and flat batch pixel / cell indices (b*H*W + v*W + u, b*h*w + i*w + j)."""
        coords, centres = inputs["coords"], inputs["centres"]
        images = inputs["images"]
        bsz, _, hh, ww = images.shape
        h, w = feat_hw
        parents = parent_rows(coords, bottleneck)
        dec_v, dec_p, enc_v, enc_c = [], [], [], []
        batch = coords[:, 0].long()
        for b in range(bsz):
            rows = torch.nonzero(batch == b, as_tuple=True)[0]
            if len(rows) == 0:
                continue
            depth = inputs["depth"][b] * inputs["depth_scale"][b]
            vi, pix = voxel_pixel_correspondences(centres[rows], inputs["pose"][b], inputs["color_intrinsic"][b],
                                                  (hh, ww), depth, inputs["depth_intrinsic"][b], tol=self.corr_tol)
            fine = rows[vi]
            dec_v.append(fine)
            dec_p.append(pix + b * hh * ww)
            par = parents[fine]
            if bool((par < 0).any()):
                raise RuntimeError("Text4PointPretrainer: a voxel has no stride-16 parent in the bottleneck")
            cell = pixel_to_cell(pix, ww, (h, w), self.feature_stride, hh)
            pv, pc = (majority_cell if self.enc_pairs == "voxel" else unique_pairs)(par, cell)
            enc_v.append(pv)
            enc_c.append(pc + b * h * w)
        dev = coords.device
        cat = (lambda xs: torch.cat(xs) if xs else torch.zeros(0, dtype=torch.int64, device=dev))
        return cat(dec_v), cat(dec_p), cat(enc_v), cat(enc_c)

    # ---- forward -------------------------------------------------------------------------------
    def text_embeddings(self) -> torch.Tensor:
        with torch.no_grad():
            return self.text().detach()

    def _run(self, inputs: dict) -> dict:
        images = inputs["images"]
        h2d = self.image_encoder(images)  # runs without autograd (frozen)
        text = self.text_embeddings().to(device=inputs["feats"].device, dtype=inputs["feats"].dtype)
        x = sp.SparseTensor(inputs["feats"], inputs["coords"])
        out = self.backbone(x, text)
        z2d = self.decoder2d(h2d.to(inputs["feats"].dtype), tuple(images.shape[-2:]))
        depth = self.depth_head(z2d) if self.depth_head is not None else None
        return dict(h2d=h2d, out=out, z2d=z2d, depth=depth)

    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = "tensor"):
        res = self._run(inputs)
        out, h2d, z2d = res["out"], res["h2d"], res["z2d"]
        if mode == "loss":
            return self.loss(inputs, res)
        if mode == "tensor":
            return dict(z3d=out.features.feats, expanded=out.expanded, bottleneck_coords=out.bottleneck.coords,
                        z2d=z2d, h2d=h2d, depth=res["depth"])
        if mode == "predict":
            batch = inputs["coords"][:, 0].long()
            preds = []
            for b in range(inputs["images"].shape[0]):
                m = batch == b
                preds.append(dict(coords=inputs["coords"][m, 1:], z3d=out.features.feats[m],
                                  depth=None if res["depth"] is None else res["depth"][b],
                                  meta=(data_samples or [{}] * (b + 1))[b]))
            return preds
        raise ValueError(f"Text4PointPretrainer: unknown mode {mode!r} (loss, tensor, predict)")

    def loss(self, inputs: dict, res: dict) -> dict:
        out, h2d, z2d = res["out"], res["h2d"], res["z2d"]
        bsz, d, h, w = h2d.shape
        dec_v, dec_p, enc_v, enc_c = self.correspondences(inputs, out.bottleneck, (h, w))
        dev = z2d.device
        losses = {}
        # encoder level: h2D cells vs expanded bottleneck rows
        keep = _subsample(len(enc_v), self.max_pairs, dev)
        if keep is not None:
            enc_v, enc_c = enc_v[keep], enc_c[keep]
        h2d_rows = h2d.permute(0, 2, 3, 1).reshape(-1, d)[enc_c].to(out.expanded.dtype)
        mask = (enc_c[:, None] == enc_c[None, :]) if self.enc_pairs == "voxel" else None
        losses["loss_enc"] = self.loss_weights["enc"] * pixel_voxel_contrastive_loss(
            h2d_rows, out.expanded[enc_v], self.tau, positive_mask=mask)
        # decoder level: z2D pixels vs z3D voxels
        keep = _subsample(len(dec_v), self.max_pairs, dev)
        if keep is not None:
            dec_v, dec_p = dec_v[keep], dec_p[keep]
        c = z2d.shape[1]
        z2d_rows = z2d.permute(0, 2, 3, 1).reshape(-1, c)[dec_p]
        losses["loss_dec"] = self.loss_weights["dec"] * pixel_voxel_contrastive_loss(
            z2d_rows, out.features.feats[dec_v], self.tau)
        if res["depth"] is not None:
            losses["loss_depth"] = self.loss_weights["depth"] * depth_l1_loss(res["depth"], inputs["depth_image"])
        losses["num_pairs_enc"] = torch.tensor(float(len(enc_v)), device=dev)
        losses["num_pairs_dec"] = torch.tensor(float(len(dec_v)), device=dev)
        return losses
