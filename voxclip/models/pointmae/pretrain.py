"""Point-MAE pre-training (Pang et al., ECCV 2022) as an mmengine model.

Per batch of clouds (B, N, 3):

    tokens, pos, centres = tokenizer(points)           M patches of K points (FPS + kNN, mini-PointNet)
    mask                 = random_token_mask(ratio)    int(ratio * M) masked patches per cloud (0.6)
    x_vis                = encoder(tokens[~mask], pos[~mask])          the encoder sees visible tokens only
    y                    = decoder([x_vis, mask_token x M_m], [dpos(c_vis), dpos(c_mask)])[:, -M_m:]
    rebuild              = Conv1d(D, 3K)(y) -> (B*M_m, K, 3)
    loss_rec             = Chamfer-L2(rebuild, masked patches relative to their centres)

The decoder is a PointTransformerEncoder (the same pre-norm blocks with the positional embedding
added before every block and a final LayerNorm: exactly Point-MAE's TransformerDecoder); it has
its own positional MLP (Point-MAE's ``decoder_pos_embed``). The student is stored as ``tokenizer.*``
and ``encoder.*`` so that ``pretrained=dict(checkpoint=...)`` on 3DETR or the classifier loads it.
"""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.model import BaseModel
from torch import nn

from voxclip.models.tokenizers import PointTokenizer  # noqa: F401  (registers)
from voxclip.models.transformers import PointTransformerEncoder  # noqa: F401
from voxclip.registry import MODELS

from .chamfer import chamfer_l2
from .masking import random_token_mask, take_tokens

__all__ = ["PointMAEPretrainer", "patch_points", "dense_points"]


def dense_points(inputs: dict) -> torch.Tensor:
    """inputs['points'] as (B, N, 3) (the scene-pair collate gives it dense)."""
    pts = inputs.get("points")
    if pts is None or pts.dim() != 3 or pts.shape[-1] != 3:
        raise KeyError("masked point models need inputs['points'] of shape (B, N, 3) "
                       "(voxclip.datasets.point_pairs_collate)")
    return pts


def patch_points(points: torch.Tensor, centers: torch.Tensor, patch_idx: torch.Tensor) -> torch.Tensor:
    """(B, N, 3) clouds, (B, M, 3) centres, (B, M, K) indices -> (B, M, K, 3) patches relative to their centre."""
    b = torch.arange(points.shape[0], device=points.device)[:, None, None]
    return points[b, patch_idx] - centers[:, :, None, :]


@MODELS.register_module()
class PointMAEPretrainer(BaseModel):
    """Args:
        tokenizer: PointTokenizer config (Point-MAE: 64 patches x 32 points, 384 wide).
        encoder: PointTransformerEncoder config (12 blocks, 6 heads, drop path 0.1).
        decoder: PointTransformerEncoder config (Point-MAE: 4 blocks, 6 heads, drop path 0.1).
        mask_ratio: fraction of patches masked (0.6).
        decoder_pos_hidden: hidden width of the decoder's positional MLP (128).
    forward(inputs, data_samples, mode): 'loss' -> dict(loss_rec); 'tensor' -> dict(rebuild, target, mask).
    """

    def __init__(self, tokenizer: dict, encoder: dict, decoder: dict, mask_ratio: float = 0.6,
                 decoder_pos_hidden: int = 128, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.tokenizer = MODELS.build(tokenizer)
        self.encoder = MODELS.build(encoder)
        self.decoder = MODELS.build(decoder)
        d = self.tokenizer.embed_dim
        if self.encoder.embed_dim != d or self.decoder.embed_dim != d:
            raise ValueError(f"PointMAEPretrainer: tokenizer ({d}), encoder ({self.encoder.embed_dim}) and decoder "
                             f"({self.decoder.embed_dim}) widths must agree")
        self.mask_ratio = float(mask_ratio)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, d))
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        self.decoder_pos_embed = nn.Sequential(nn.Linear(3, decoder_pos_hidden), nn.GELU(),
                                               nn.Linear(decoder_pos_hidden, d))
        self.increase_dim = nn.Conv1d(d, 3 * self.tokenizer.patch_size, 1)

    def _run(self, inputs: dict) -> dict:
        points = dense_points(inputs)
        tok = self.tokenizer(points)
        bsz, m, d = tok.tokens.shape
        mask = random_token_mask(bsz, m, self.mask_ratio, device=points.device)
        x_vis = self.encoder(take_tokens(tok.tokens, mask, False), take_tokens(tok.pos, mask, False))
        c_vis, c_mask = take_tokens(tok.centers, mask, False), take_tokens(tok.centers, mask, True)
        n_mask = c_mask.shape[1]
        x = torch.cat([x_vis, self.mask_token.expand(bsz, n_mask, d)], dim=1)
        pos = self.decoder_pos_embed(torch.cat([c_vis, c_mask], dim=1))
        y = self.decoder(x, pos)[:, -n_mask:]  # (B, M_m, D)
        k = self.tokenizer.patch_size
        rebuild = self.increase_dim(y.transpose(1, 2)).transpose(1, 2).reshape(bsz * n_mask, k, 3)
        target = take_tokens(patch_points(points, tok.centers, tok.patch_idx), mask, True).reshape(-1, k, 3)
        return dict(rebuild=rebuild, target=target, mask=mask)

    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = "tensor"):
        if mode not in ("loss", "tensor"):
            raise ValueError(f"PointMAEPretrainer: unknown mode {mode!r} (loss, tensor)")
        res = self._run(inputs)
        if mode == "tensor":
            return res
        return dict(loss_rec=chamfer_l2(res["rebuild"], res["target"]))
