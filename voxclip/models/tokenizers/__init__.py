"""Point tokenizers: point clouds -> token sequences for transformers; importing registers them."""
from .point_tokenizer import MiniPointNet, PointTokenizer, TokenizerOutput, group_patches, split_by_batch
from .set_abstraction import SetAbstractionTokenizer, SharedPointMLP
from .hierarchical import HierarchicalTokenizer

__all__ = ["PointTokenizer", "MiniPointNet", "TokenizerOutput", "group_patches", "split_by_batch",
           "SetAbstractionTokenizer", "SharedPointMLP", "HierarchicalTokenizer"]
