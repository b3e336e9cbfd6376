"""The ScanNet class lists of `voxclip.datasets.classes`, loaded without `voxclip.datasets`.

`voxclip/datasets/__init__.py` imports torch and the dataset stack (seconds per process, and
every worker would pay it); data preparation needs only these constants, so the file is loaded on
its own. If the full package is already imported, its module object is reused.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _load():
    mod = sys.modules.get("voxclip.datasets.classes")
    if mod is not None:
        return mod
    spec = importlib.util.find_spec("voxclip")  # top level only: does not run voxclip.datasets
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("voxclip package not found (run from the repository or install it)")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "classes.py"
    file_spec = importlib.util.spec_from_file_location("_voxclip_dataset_classes", path)
    mod = importlib.util.module_from_spec(file_spec)
    file_spec.loader.exec_module(mod)
    return mod


_classes = _load()
SCANNET_DET_CLASSES = tuple(_classes.SCANNET_DET_CLASSES)
SCANNET_DET_NYU40_IDS = tuple(_classes.SCANNET_DET_NYU40_IDS)
SCANNET_SEG_CLASSES = tuple(_classes.SCANNET_SEG_CLASSES)
SCANNET_SEG_NYU40_IDS = tuple(_classes.SCANNET_SEG_NYU40_IDS)
