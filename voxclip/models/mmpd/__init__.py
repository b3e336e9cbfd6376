"""Multimodal masked point distillation (two-stage: multi-teacher contrastive alignment, then
masked point modelling distilled from the stage-1 model); importing registers the modules."""
from .losses import LogitScale, gather_features, negative_cosine, symmetric_infonce
from .shuffle import invert_permutation, permute_tokens, random_permutation
from .stage1 import MMPDStage1
from .stage2 import MMPDStage2
from .student import GlobalHead, Stage1Teacher, encode_points
from .teachers import CLIPImageTeacher, DINOv2Teacher, dinov2_download_hint

__all__ = ["MMPDStage1", "MMPDStage2", "Stage1Teacher", "GlobalHead", "encode_points", "CLIPImageTeacher",
           "DINOv2Teacher", "dinov2_download_hint", "symmetric_infonce", "gather_features", "negative_cosine",
           "LogitScale", "random_permutation", "permute_tokens", "invert_permutation"]
