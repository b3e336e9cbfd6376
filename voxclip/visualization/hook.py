"""`ShowResultsHook`: pictures of every evaluated scene while mmengine's TestLoop runs.

tools/test.py --show-dir adds it. Detection scenes are drawn from the dataset's full coloured
point cloud (the test pipeline only subsamples, so predictions are in the same frame); segmentation
uses the points the model labelled (data_batch), with prediction and ground truth side by side.
"""
from __future__ import annotations

import numpy as np
from mmengine.hooks import Hook

from voxclip.registry import HOOKS
from voxclip.structures.array import to_numpy

from .instances import render_instances
from .render import render_detection, render_segmentation
from .scene import BoxSet


@HOOKS.register_module()
class ShowResultsHook(Hook):
    """Args: out_dir; max_scenes (None = all); score_thr for drawn predictions; ply (write .ply too)."""

    priority = "LOW"

    def __init__(self, out_dir: str, max_scenes: int | None = None, score_thr: float = 0.1, ply: bool = True):
        self.out_dir, self.max_scenes = out_dir, max_scenes
        self.score_thr, self.ply = float(score_thr), bool(ply)
        self.written: list[str] = []
        self._count = 0

    def before_test(self, runner) -> None:
        self._dataset = runner.test_dataloader.dataset
        self._class_names = tuple(self._dataset.metainfo.get("classes", ()))
        self._by_scene = {}
        if hasattr(self._dataset, "load_sample"):
            for idx in range(len(self._dataset)):
                info = self._dataset.get_data_info(idx)
                self._by_scene[info.get("scene_id")] = info
        self.written, self._count = [], 0

    def _scene_points(self, scene_id, data_batch, i):
        info = self._by_scene.get(scene_id)
        if info is not None:
            sample = self._dataset.load_sample(info)
            return sample["points"], sample.get("colors")
        inputs = data_batch["inputs"]
        pts = to_numpy(inputs["points"])[to_numpy(inputs["point_batch"]) == i]
        return pts, None

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        for i, out in enumerate(outputs or ()):
            if self.max_scenes is not None and self._count >= self.max_scenes:
                return
            meta = out.get("meta") or {}
            name = str(meta.get("scene_id", f"batch{batch_idx}_{i}"))
            if "pred_instances" in out:  # instance segmentation: instances, then its semantic picture
                inputs = data_batch["inputs"]
                pts = to_numpy(inputs["points"])[to_numpy(inputs["point_batch"]) == i]
                inst = out["pred_instances"]
                gt = to_numpy(out["gt_instance"]) if "gt_instance" in out else None
                self.written += render_instances(self.out_dir, name, pts, to_numpy(inst["masks"]),
                                                 to_numpy(inst["scores"]), gt, ply=self.ply)
            if "pred_semantic" in out:
                inputs = data_batch["inputs"]
                pts = to_numpy(inputs["points"])[to_numpy(inputs["point_batch"]) == i]
                gt = to_numpy(out["gt_semantic"]) if "gt_semantic" in out else None
                self.written += render_segmentation(self.out_dir, name, pts, to_numpy(out["pred_semantic"]), gt,
                                                    self._class_names, ply=self.ply)
            elif "boxes" in out:
                pts, colors = self._scene_points(meta.get("scene_id"), data_batch, i)
                gt = BoxSet(to_numpy(out["gt_boxes"]), to_numpy(out["gt_labels"])) if "gt_boxes" in out else None
                pred = BoxSet(to_numpy(out["boxes"]), to_numpy(out["labels"]), to_numpy(out["scores"]))
                self.written += render_detection(self.out_dir, name, pts, colors, self._class_names, gt, pred,
                                                 score_thr=self.score_thr, ply=self.ply)
            else:
                continue
            self._count += 1

    def after_test(self, runner) -> None:
        runner.logger.info(f"ShowResultsHook: {self._count} scenes drawn, {len(self.written)} files in {self.out_dir}")


def add_show_hook(cfg, show_dir: str, **kwargs) -> None:
    """Make a test config write pictures to `show_dir`: the hook, and PR curves when it evaluates detection."""
    hooks = [h for h in cfg.get("custom_hooks", []) if h.get("type") != "ShowResultsHook"]
    cfg.custom_hooks = hooks + [dict(type="ShowResultsHook", out_dir=show_dir, **kwargs)]
    for evaluator in (cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]):
        if evaluator.get("type") == "IndoorDetMetric":
            evaluator.pr_curve_dir = show_dir
