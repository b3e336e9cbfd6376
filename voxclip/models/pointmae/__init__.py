"""Point-MAE (masked point modelling) pre-training; importing registers it."""
from .chamfer import chamfer_l2
from .masking import random_token_mask, take_tokens
from .pretrain import PointMAEPretrainer, dense_points, patch_points

__all__ = ["PointMAEPretrainer", "chamfer_l2", "random_token_mask", "take_tokens", "patch_points", "dense_points"]
