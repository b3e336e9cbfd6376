"""Object classifiers on point tokens: fine-tuning (PointClassifier, EPCLClassifier), zero-shot by
CLIP text embeddings (ZeroShotClassifier) and test-time voting; importing registers them."""
from .epcl_classifier import EPCLClassifier
from .point_classifier import POOLINGS, ClsHead, PointClassifier
from .voting import vote_copy, vote_logits
from .zero_shot import ZeroShotClassifier, class_text_embeddings

__all__ = ["PointClassifier", "EPCLClassifier", "ZeroShotClassifier", "ClsHead", "POOLINGS", "vote_logits",
           "vote_copy", "class_text_embeddings"]
