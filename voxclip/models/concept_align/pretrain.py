"""Concept-alignment distillation pretraining (paper Sec. 3, Eq. 1-12) as an mmengine model.

Per batch of ConceptAlignPairs samples (points (B, N, 3), images or cached targets):

    M, T = FPS + kNN(X)                       tokenizer (Eq. 1-2), 64 patches x 32 points
    F0   = PointNet(T), pos = MLP(M)          tokenizer (Eq. 3)
    F, {F_i} = Transformer(F0)                encoder.forward_layers (Eq. 4), pos added at every block
    C    = ConceptExtractor({F_i})            k_con concept queries, cross-attention per layer (Eq. 5-8)
    C'   = ConceptProjector(C)                2-layer MLP, (k_con x d) -> (k_cap x d_cap)
    P    = ClipCap(CLIP(x))                   frozen teacher (Eq. 9-10), or the cached P
    loss_align = w * MSE(C', P)               Eq. 12

The student is stored as the submodules ``tokenizer`` and ``encoder`` (as ThreeDETR's), so a
fine-tuning config takes them with ``pretrained=dict(checkpoint=..., producer=...)``. The teacher
towers are FrozenTowers: no gradients, eval mode, and left out of checkpoints.

Ablation switches (paper Tab. 5 and the issue): ``concept_cross_attention=False`` aligns the
encoder's final point tokens F' = Proj(F) directly (Sec. 4.3.1 "w/o concept extraction");
``teacher.target='clip'`` aligns to the CLIP embedding ("w/o caption model"); ``concept.num_concepts``;
``concept.layers='last'`` extracts concepts from the last layer only.
"""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.model import BaseModel

from voxclip.models.tokenizers import PointTokenizer  # noqa: F401  (registers it)
from voxclip.models.transformers import PointTransformerEncoder  # noqa: F401
from voxclip.registry import MODELS

from .concept_module import ConceptExtractor, ConceptProjector
from .losses import concept_alignment_loss
from .teacher import ConceptTeacher  # noqa: F401  (registers the teacher towers)

__all__ = ["ConceptAlignPretrainer"]


@MODELS.register_module()
class ConceptAlignPretrainer(BaseModel):
    """Args:
        tokenizer: PointTokenizer config (64 tokens x 32 points, 384 wide).
        encoder: PointTransformerEncoder config (12 x 384, 6 heads).
        teacher: ConceptTeacher config; None when every sample brings a cached ``target``.
        target_shape: (k_cap, d_cap) when teacher is None (the cache's shape).
        concept: ConceptExtractor options (num_concepts, share_blocks, layers, mlp_ratio, ...).
        concept_cross_attention: False = ablation without the concept module.
        concept_source: which tokens of layer i the concepts attend to: 'output' (block i's output;
            the last one after the encoder's final LayerNorm, so every encoder weight is trained) or
            'input' (block i's input, Eq. 6-7 read literally; block 12 and the final norm then get
            no gradient from the loss and DDP needs find_unused_parameters=True).
        projector_hidden: hidden width of the 2-layer MLP (default max(d, d_cap)).
        loss_weight: weight of loss_align.
    forward(inputs, data_samples, mode): 'loss' -> dict(loss_align); 'tensor' -> dict(pred (B, k, d),
        target (B, k, d)); 'predict' -> per-sample dicts with pred, target and meta.
    """

    def __init__(self, tokenizer: dict, encoder: dict, teacher: Optional[dict] = None,
                 target_shape: Optional[tuple] = None, concept: Optional[dict] = None,
                 concept_cross_attention: bool = True, concept_source: str = "output",
                 projector_hidden: Optional[int] = None,
                 loss_weight: float = 1.0, data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.tokenizer = MODELS.build(tokenizer)
        self.encoder = MODELS.build(encoder)
        d = int(self.encoder.embed_dim)
        if self.tokenizer.embed_dim != d:
            raise ValueError(f"ConceptAlignPretrainer: tokenizer embed_dim {self.tokenizer.embed_dim} != encoder width {d}")
        self.teacher = MODELS.build({"type": "ConceptTeacher", **teacher}) if teacher is not None else None
        if self.teacher is not None:
            shape = self.teacher.target_shape
            if target_shape is not None and tuple(target_shape) != tuple(shape):
                raise ValueError(f"ConceptAlignPretrainer: target_shape {tuple(target_shape)} != the teacher's {shape}")
        elif target_shape is None:
            raise ValueError("ConceptAlignPretrainer: without a teacher, give target_shape=(k_cap, d_cap) of the cache")
        else:
            shape = tuple(int(v) for v in target_shape)
        self.target_shape = tuple(shape)
        self.concept_cross_attention = bool(concept_cross_attention)
        if concept_source not in ("output", "input"):
            raise ValueError(f"ConceptAlignPretrainer: concept_source must be 'output' or 'input', got {concept_source!r}")
        self.concept_source = concept_source
        if self.concept_cross_attention:
            ccfg = dict(concept or {})
            ccfg.setdefault("dim", d)
            ccfg.setdefault("depth", self.encoder.depth)
            ccfg.setdefault("num_heads", self.encoder.blocks[0].attn.num_heads)
            if ccfg["dim"] != d or ccfg["depth"] != self.encoder.depth:
                raise ValueError(f"ConceptAlignPretrainer: concept dim/depth {ccfg['dim']}/{ccfg['depth']} must equal "
                                 f"the encoder's {d}/{self.encoder.depth}")
            self.concept = ConceptExtractor(**ccfg)
            in_tokens = self.concept.num_concepts
        else:
            self.concept = None
            in_tokens = self.tokenizer.num_tokens
        self.projector = ConceptProjector(in_tokens, d, shape[0], shape[1], projector_hidden)
        self.loss_weight = float(loss_weight)

    # -- pieces --------------------------------------------------------------------------------
    def student(self, points: torch.Tensor) -> torch.Tensor:
        """(B, N, 3) points -> C' (B, k_cap, d_cap)."""
        tok = self.tokenizer(points)
        final, layer_in, layer_out = self.encoder.forward_layers(tok.tokens, tok.pos)
        if self.concept is None:
            return self.projector(final)
        if self.concept.layers == "last":
            feats = [final]
        else:
            feats = layer_in if self.concept_source == "input" else layer_out[:-1] + [final]
        return self.projector(self.concept(feats))

    def targets(self, inputs: dict) -> torch.Tensor:
        if "targets" in inputs:
            t = inputs["targets"]
            if tuple(t.shape[1:]) != self.target_shape:
                raise ValueError(f"ConceptAlignPretrainer: cached targets are {tuple(t.shape[1:])}, the model "
                                 f"predicts {self.target_shape}")
            return t.float()
        if self.teacher is None:
            raise KeyError("ConceptAlignPretrainer: the batch has no cached 'targets' and the model no teacher "
                           "(set model.teacher, or the dataset's cache_dir)")
        if "images" not in inputs:
            raise KeyError("ConceptAlignPretrainer: the batch has neither 'targets' nor 'images'")
        images = inputs["images"]
        size = self.teacher.image_size
        if tuple(images.shape[-2:]) != (size, size):
            raise ValueError(f"ConceptAlignPretrainer: images are {tuple(images.shape[-2:])}, the teacher's CLIP takes "
                             f"{size}x{size} (set the dataset's image_size={size})")
        return self.teacher(images).float()

    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = "tensor"):
        if mode not in ("tensor", "loss", "predict"):
            raise ValueError(f"ConceptAlignPretrainer: unknown mode {mode!r} (loss, tensor, predict)")
        points = inputs["points"]
        if points.dim() != 3 or points.shape[-1] != 3:
            raise ValueError(f"ConceptAlignPretrainer: inputs['points'] must be (B, N, 3), got {tuple(points.shape)}")
        target = self.targets(inputs).to(points.device)
        pred = self.student(points.float())
        if mode == "loss":
            return dict(loss_align=self.loss_weight * concept_alignment_loss(pred, target))
        if mode == "tensor":
            return dict(pred=pred, target=target)
        return [dict(pred=pred[b].detach().cpu(), target=target[b].cpu(),
                     meta=(data_samples[b] if data_samples else {})) for b in range(len(pred))]
