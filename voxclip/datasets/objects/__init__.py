"""Object-level datasets: readers of ModelNet40 / ScanObjectNN / ShapeNet55 as distributed, the
prepared FPS cache, the few-shot protocol and the classification dataset (docs/objects.md)."""
from .captions import captions_for, load_captions  # noqa: F401
from .dataset import SOURCES, ObjectClassification, load_object_set
from .fewshot import fold_summary, load_folds, make_folds, save_folds
from .prepared import read_prepared
from .shapenetpart import read_shapenetpart
from .partseg_dataset import ShapeNetPartSegmentation
from .readers import (SCANOBJECTNN_CLASSES, SCANOBJECTNN_VARIANTS, ObjectDataError, ObjectSet,
                      read_modelnet40_h5, read_modelnet40_txt, read_scanobjectnn, read_shapenet55)

__all__ = ["ObjectClassification", "load_object_set", "SOURCES", "make_folds", "save_folds", "load_folds",
           "fold_summary", "read_prepared", "ObjectDataError", "ObjectSet", "read_modelnet40_h5",
           "read_modelnet40_txt", "read_scanobjectnn", "read_shapenet55", "SCANOBJECTNN_CLASSES",
           "SCANOBJECTNN_VARIANTS", "captions_for", "load_captions", "read_shapenetpart",
           "ShapeNetPartSegmentation"]
