"""Stage 1 (Eq. 1-3): align the point cloud's global embedding with frozen vision and language
teachers by symmetric InfoNCE.

    f^P         = global_head(encoder(tokenizer(P)))          pooled tokens + projection (G wide)
    f^P_m       = heads[m](f^P)                               one projection per teacher (its width)
    f^T         = CLIP text tower(caption)                    captions file / class templates
    f^(I,m)     = teacher m(view)                              CLIP image tower, DINOv2 (colour or depth view)
    L_stage1    = w_text * InfoNCE(f^P_text, f^T) + sum_m w_m * InfoNCE(f^P_m, f^(I,m))     (Eq. 3)

Each InfoNCE has its own CLIP-style learnable, clamped logit scale and takes its negatives from
every process (mmpd.losses). Teachers are switchable (``teachers``: which are built and used).
The student is stored as ``tokenizer.*`` / ``encoder.*`` / ``global_head.*``: stage 2 takes the
first two as its initialisation and all three as its frozen teacher.
"""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.model import BaseModel
from torch import nn

from voxclip.models.clip import CLIPTextEncoder  # noqa: F401  (registers)
from voxclip.models.pointmae.pretrain import dense_points
from voxclip.registry import MODELS

from .losses import LogitScale, symmetric_infonce
from .student import GlobalHead, encode_points
from .teachers import CLIPImageTeacher, DINOv2Teacher  # noqa: F401  (registers)
from .views import choose_views

__all__ = ["MMPDStage1"]

TEACHER_NAMES = ("text", "clip_image", "dinov2")


@MODELS.register_module()
class MMPDStage1(BaseModel):
    """Args:
        tokenizer, encoder: PointTokenizer / PointTransformerEncoder configs (the student).
        global_dim: G, width of the global embedding f^P.
        teachers: dict name -> FrozenTower config, names from ('text', 'clip_image', 'dinov2');
            'text' is a CLIPTextEncoder (uses ``encode_texts``), the image teachers take views.
        use_teachers: which of them to build and train against (the single-teacher switches).
        loss_weights: per teacher (default 1.0 each).
        view: 'color' | 'depth' | 'random' image-teacher view (mmpd.views.choose_views).
        init_temperature, max_logit_scale: CLIP's 0.07 and 100.
    forward(inputs, data_samples, mode): inputs from point_pairs_collate (points (B, N, 3),
        images, depth_image, texts); 'loss' -> dict(loss_<teacher>..., scale_<teacher>...);
        'tensor' -> dict(global=f^P, tokens=encoder features, **{teacher: (student, target)}).
    """

    def __init__(self, tokenizer: dict, encoder: dict, teachers: dict, global_dim: int = 512,
                 use_teachers: tuple = TEACHER_NAMES, loss_weights: Optional[dict] = None, view: str = "random",
                 init_temperature: float = 0.07, max_logit_scale: float = 100.0,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        use = tuple(use_teachers)
        bad = [t for t in use if t not in TEACHER_NAMES or t not in teachers]
        if bad or not use:
            raise ValueError(f"MMPDStage1: use_teachers {list(use)} must be a non-empty subset of the configured "
                             f"teachers {sorted(teachers)} (names from {TEACHER_NAMES})")
        self.use_teachers, self.view = use, view
        self.tokenizer = MODELS.build(tokenizer)
        self.encoder = MODELS.build(encoder)
        self.global_head = GlobalHead(self.encoder.embed_dim, global_dim)
        self.teachers = nn.ModuleDict({name: MODELS.build(teachers[name]) for name in use})  # FrozenTowers
        self.heads = nn.ModuleDict({name: nn.Linear(global_dim, int(t.embed_dim)) for name, t in self.teachers.items()})
        self.logit_scales = nn.ModuleDict({name: LogitScale(init_temperature, max_logit_scale) for name in use})
        w = {name: 1.0 for name in use}
        unknown = set(loss_weights or {}) - set(TEACHER_NAMES)
        if unknown:
            raise ValueError(f"MMPDStage1: unknown loss_weights keys {sorted(unknown)} ({TEACHER_NAMES})")
        w.update({k: float(v) for k, v in (loss_weights or {}).items() if k in use})
        self.loss_weights = w

    def targets(self, inputs: dict) -> dict:
        """Teacher embeddings {name: (B, D_name)} (no autograd: the teachers are frozen)."""
        out = {}
        if "text" in self.teachers:
            texts = inputs.get("texts")
            if texts is None:
                raise KeyError("MMPDStage1: the text teacher needs inputs['texts'] (one string per cloud)")
            out["text"] = self.teachers["text"].encode_texts(list(texts))
        image_teachers = [n for n in self.teachers if n != "text"]
        if image_teachers:
            rgb, _ = choose_views(inputs["images"], inputs.get("depth_image"), self.view)
            for name in image_teachers:
                out[name] = self.teachers[name](rgb)
        return {k: v.float() for k, v in out.items()}

    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = "tensor"):
        if mode not in ("loss", "tensor"):
            raise ValueError(f"MMPDStage1: unknown mode {mode!r} (loss, tensor)")
        _, feats = encode_points(self.tokenizer, self.encoder, dense_points(inputs))
        glob = self.global_head(feats)
        targets = self.targets(inputs)
        pairs = {name: (self.heads[name](glob), targets[name]) for name in self.use_teachers}
        if mode == "tensor":
            return {"global": glob, "tokens": feats, **pairs}
        losses = {}
        for name, (student, target) in pairs.items():
            scale = self.logit_scales[name]()
            losses[f"loss_{name}"] = self.loss_weights[name] * symmetric_infonce(student, target, scale)
            losses[f"scale_{name}"] = scale.detach()
        return losses
