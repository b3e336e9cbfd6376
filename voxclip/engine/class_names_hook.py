"""ClassNamesFromDataset: give an open-vocabulary model the class names of the dataset it is tested on.

Zero-shot models classify into whatever names they are given; the labels they are scored against
come from the dataset (ObjectClassification's ``metainfo['classes']``, read from the prepared
index.json). The hook hands those names to the model (``model.set_class_names``) before validation
and testing, so the prompts and the label order cannot disagree and a config need not repeat them.
"""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from voxclip.registry import HOOKS

__all__ = ["ClassNamesFromDataset"]


@HOOKS.register_module()
class ClassNamesFromDataset(Hook):
    """Args: key: the metainfo entry with the names ('classes')."""

    priority = "HIGH"

    def __init__(self, key: str = "classes"):
        self.key = key

    def _apply(self, runner, loop) -> None:
        dataset = loop.dataloader.dataset
        names = tuple((getattr(dataset, "metainfo", None) or {}).get(self.key, ()))
        if not names:
            raise ValueError(f"ClassNamesFromDataset: {type(dataset).__name__} has no metainfo[{self.key!r}]")
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, "set_class_names"):
            raise TypeError(f"ClassNamesFromDataset: {type(model).__name__} has no set_class_names(names)")
        model.set_class_names(names)

    def before_val(self, runner) -> None:
        self._apply(runner, runner.val_loop)

    def before_test(self, runner) -> None:
        self._apply(runner, runner.test_loop)
