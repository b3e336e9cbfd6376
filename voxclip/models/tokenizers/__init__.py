"""Point tokenizers: point clouds -> token sequences for transformers; importing registers them."""
from .point_tokenizer import MiniPointNet, PointTokenizer, TokenizerOutput, group_patches, split_by_batch
from .hierarchical import HierarchicalTokenizer  # noqa: F401

__all__ = ["PointTokenizer", "MiniPointNet", "TokenizerOutput", "group_patches", "split_by_batch"]
