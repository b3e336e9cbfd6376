"""Stage 2 (Eq. 4-6): masked point modelling distilled from the frozen stage-1 model.

    tokens, pos, c      = tokenizer(P)                      student, initialised from stage 1
    z^1, f^P_1          = stage-1 teacher(P)                 token features and global embedding of the FULL cloud
    mask                = random_token_mask(ratio)
    x_vis               = encoder(tokens[~mask], pos[~mask])
    local  (Eq. 4):  s = [x_vis, mask_token x M_m], centres [c_vis, c_mask], targets [z^1_vis, z^1_mask];
                     s, centres, targets permuted by one random permutation per cloud (``shuffle``);
                     pos = decoder_pos_embed(permuted centres)   (positional embeddings AFTER the shuffle)
                     z^2 = local_head(decoder(s, pos))           every token predicted
                     L_local = mean_i (1 - cos(z^1_i, z^2_i))
    global (Eq. 5):  f^P_2 = global_head(global_decoder(x_vis, pos=None))   no shuffle, no positions
                     L_global = mean_b (1 - cos(f^P_1, f^P_2))
    L_stage2 = w_local L_local + w_global_embed L_global            (Eq. 6; a weight 0 switches a term off)

The student is ``tokenizer.*`` / ``encoder.*`` (3DETR and the classifier load these); the
teacher's weights stay out of the checkpoints (a FrozenTower, rebuilt from the stage-1 file).
"""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.model import BaseModel
from torch import nn

from voxclip.models.pointmae.masking import random_token_mask, take_tokens
from voxclip.models.pointmae.pretrain import dense_points
from voxclip.models.pretrained import PretrainedPartsMixin
from voxclip.registry import MODELS

from .losses import negative_cosine
from .shuffle import permute_tokens, random_permutation
from .student import GlobalHead, Stage1Teacher  # noqa: F401  (registers)

__all__ = ["MMPDStage2"]


@MODELS.register_module()
class MMPDStage2(PretrainedPartsMixin, BaseModel):
    """Args:
        tokenizer, encoder: the student (the stage-1 architecture).
        teacher: Stage1Teacher config (stage-1 checkpoint; frozen).
        decoder: PointTransformerEncoder config of the local decoder (Point-MAE's: 4 blocks).
        global_decoder: PointTransformerEncoder config run on the visible tokens without positions
            (depth 0 = only its LayerNorm, i.e. an MLP-style global decoder).
        mask_ratio: 0.6. shuffle: token shuffling before the local decoder (switch).
        loss_weights: dict(local=1.0, global_embed=1.0); 0 drops a term (local only / global only).
        pretrained: dict(checkpoint=stage-1 .pth, ...): the student's initialisation
            (PretrainedPartsMixin; parts tokenizer / encoder).
    """

    def __init__(self, tokenizer: dict, encoder: dict, teacher: dict, decoder: dict,
                 global_decoder: Optional[dict] = None, mask_ratio: float = 0.6, shuffle: bool = True,
                 loss_weights: Optional[dict] = None, decoder_pos_hidden: int = 128,
                 pretrained: Optional[dict] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self._set_pretrained(pretrained)
        self.tokenizer = MODELS.build(tokenizer)
        self.encoder = MODELS.build(encoder)
        self.teacher = MODELS.build(teacher)
        d = self.encoder.embed_dim
        self.decoder = MODELS.build(decoder)
        if self.decoder.embed_dim != d:
            raise ValueError(f"MMPDStage2: decoder width {self.decoder.embed_dim} != encoder width {d}")
        self.global_decoder = MODELS.build(global_decoder or dict(type="PointTransformerEncoder", embed_dim=d, depth=0))
        self.mask_ratio, self.shuffle = float(mask_ratio), bool(shuffle)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, d))
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        self.decoder_pos_embed = nn.Sequential(nn.Linear(3, decoder_pos_hidden), nn.GELU(),
                                               nn.Linear(decoder_pos_hidden, d))
        self.local_head = nn.Linear(d, self.teacher.encoder.embed_dim)
        self.global_head = GlobalHead(d, self.teacher.global_head.out_dim)
        w = dict(local=1.0, global_embed=1.0)
        unknown = set(loss_weights or {}) - set(w)
        if unknown:
            raise ValueError(f"MMPDStage2: unknown loss_weights keys {sorted(unknown)} (local, global_embed)")
        w.update({k: float(v) for k, v in (loss_weights or {}).items()})
        if w["local"] == 0 and w["global_embed"] == 0:
            raise ValueError("MMPDStage2: loss_weights switch both terms off")
        self.loss_weights = w

    def decode_local(self, tokens: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
        """Local decoder on (B, M, D) tokens in the order given (already shuffled or not); the
        positional embedding is computed from the centres in that same order."""
        return self.local_head(self.decoder(tokens, self.decoder_pos_embed(centers)))

    def _run(self, inputs: dict) -> dict:
        points = dense_points(inputs)
        t_tok, z1, f1 = self.teacher(points)
        tok = self.tokenizer(points)
        if not torch.equal(tok.centers, t_tok.centers):
            raise RuntimeError("MMPDStage2: student and teacher tokenizers chose different patch centres "
                               "(their num_tokens / patch_size / fps_backend must agree)")
        bsz, m, d = tok.tokens.shape
        mask = random_token_mask(bsz, m, self.mask_ratio, device=points.device)
        x_vis = self.encoder(take_tokens(tok.tokens, mask, False), take_tokens(tok.pos, mask, False))
        res = dict(mask=mask)
        if self.loss_weights["local"]:
            n_mask = int(mask[0].sum())
            seq = torch.cat([x_vis, self.mask_token.expand(bsz, n_mask, d)], dim=1)
            centres = torch.cat([take_tokens(tok.centers, mask, False), take_tokens(tok.centers, mask, True)], 1)
            target = torch.cat([take_tokens(z1, mask, False), take_tokens(z1, mask, True)], 1)
            if self.shuffle:
                perm = random_permutation(bsz, m, device=points.device)
                seq, centres, target = (permute_tokens(t, perm) for t in (seq, centres, target))
            res["local"] = (self.decode_local(seq, centres), target)
        if self.loss_weights["global_embed"]:
            res["global_embed"] = (self.global_head(self.global_decoder(x_vis, None)), f1)
        return res

    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = "tensor"):
        if mode not in ("loss", "tensor"):
            raise ValueError(f"MMPDStage2: unknown mode {mode!r} (loss, tensor)")
        res = self._run(inputs)
        if mode == "tensor":
            return res
        return {f"loss_{name}": self.loss_weights[name] * negative_cosine(*res[name])
                for name in ("local", "global_embed") if name in res}
