"""Child registries of mmengine's roots; every voxclip component registers here.

Configs name components by type string; `locations` lets mmengine import the module that
registers a type on first use, so a config never needs an explicit import.
"""
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

MODELS = Registry("model", parent=MMENGINE_MODELS, locations=["voxclip.models"])
DATASETS = Registry("dataset", parent=MMENGINE_DATASETS, locations=["voxclip.datasets"])
TRANSFORMS = Registry("transform", parent=MMENGINE_TRANSFORMS, locations=["voxclip.datasets.transforms"])
METRICS = Registry("metric", parent=MMENGINE_METRICS, locations=["voxclip.evaluation"])
HOOKS = Registry("hook", parent=MMENGINE_HOOKS, locations=["voxclip.engine"])
