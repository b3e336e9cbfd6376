"""`ShowResultsHook`: pictures of every evaluated scene while mmengine's TestLoop runs.

tools/test.py --show-dir adds it. Detection scenes are drawn from the dataset's full coloured
point cloud (the test pipeline only subsamples, so predictions are in the same frame); segmentation
uses the points the model labelled (data_batch), with prediction and ground truth side by side.

Detection scenes whose points the dataset can reload are drawn after the loop, by a pool of forked
processes (matplotlib draws on one core; a scene takes about a second): not during it, where they
would take the cores from the model's threads.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
from mmengine.hooks import Hook

from voxclip.registry import HOOKS
from voxclip.structures.array import to_numpy
from voxclip.utils.cores import usable_cores

from .instances import render_instances
from .render import render_detection, render_segmentation
from .scene import BoxSet


_POOL_DATASET = None  # what the drawing processes inherit (fork): the dataset to reload points from


def _draw_reloaded(info: dict, name: str, gt, pred, class_names, out_dir: str, score_thr: float, ply: bool):
    sample = _POOL_DATASET.load_sample(info)
    return render_detection(out_dir, name, sample["points"], sample.get("colors"), class_names, gt, pred,
                            score_thr=score_thr, ply=ply)


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


@HOOKS.register_module()
class ShowResultsHook(Hook):
    """Args: out_dir; max_scenes (None = all); score_thr for drawn predictions; ply (write .ply too);
    workers: drawing processes after the loop (None = min(4, cores); 1 = draw each scene as it comes)."""

    priority = "LOW"

    def __init__(self, out_dir: str, max_scenes: int | None = None, score_thr: float = 0.1, ply: bool = True,
                 workers: int | None = None):
        self.out_dir, self.max_scenes = out_dir, max_scenes
        self.score_thr, self.ply = float(score_thr), bool(ply)
        self.workers = min(4, usable_cores()) if workers is None else max(1, int(workers))
        if "fork" not in multiprocessing.get_all_start_methods():
            self.workers = 1  # the pool inherits the dataset by fork
        self.written: list[str] = []
        self._count = 0
        self._jobs: list[tuple] = []

    def before_test(self, runner) -> None:
        self._dataset = runner.test_dataloader.dataset
        self._class_names = tuple(self._dataset.metainfo.get("classes", ()))
        self._by_scene = {}
        if hasattr(self._dataset, "load_sample"):
            for idx in range(len(self._dataset)):
                info = self._dataset.get_data_info(idx)
                self._by_scene[info.get("scene_id")] = info
        self.written, self._count, self._jobs = [], 0, []

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
                gt = BoxSet(to_numpy(out["gt_boxes"]), to_numpy(out["gt_labels"])) if "gt_boxes" in out else None
                pred = BoxSet(to_numpy(out["boxes"]), to_numpy(out["labels"]), to_numpy(out["scores"]))
                info = self._by_scene.get(meta.get("scene_id"))
                if self.workers > 1 and info is not None:
                    self._jobs.append((info, name, gt, pred))
                else:
                    pts, colors = self._scene_points(meta.get("scene_id"), data_batch, i)
                    self.written += render_detection(self.out_dir, name, pts, colors, self._class_names, gt, pred,
                                                     score_thr=self.score_thr, ply=self.ply)
            else:
                continue
            self._count += 1

    def after_test(self, runner) -> None:
        if self._jobs:
            self.written += self._draw_in_pool(self._jobs)
            self._jobs = []
        runner.logger.info(f"ShowResultsHook: {self._count} scenes drawn, {len(self.written)} files in {self.out_dir}")

    def _draw_in_pool(self, jobs: list[tuple]) -> list[str]:
        global _POOL_DATASET
        _POOL_DATASET = self._dataset
        written: list[str] = []
        try:
            with ProcessPoolExecutor(min(self.workers, len(jobs)), mp_context=multiprocessing.get_context("fork"),
                                     initializer=_one_thread) as pool:
                futures = [pool.submit(_draw_reloaded, *job, self._class_names, self.out_dir, self.score_thr, self.ply)
                           for job in jobs]
                for job, fut in zip(jobs, futures):
                    try:
                        written += fut.result()
                    except BrokenProcessPool as err:
                        raise RuntimeError(f"ShowResultsHook: a drawing process died while drawing {job[1]} into "
                                           f"{self.out_dir} ({err}); rerun with fewer workers") from err
        finally:
            _POOL_DATASET = None
        return written


def add_show_hook(cfg, show_dir: str, **kwargs) -> None:
    """Make a test config write pictures to `show_dir`: the hook, and PR curves when it evaluates detection."""
    hooks = [h for h in cfg.get("custom_hooks", []) if h.get("type") != "ShowResultsHook"]
    cfg.custom_hooks = hooks + [dict(type="ShowResultsHook", out_dir=show_dir, **kwargs)]
    for evaluator in (cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]):
        if evaluator.get("type") == "IndoorDetMetric":
            evaluator.pr_curve_dir = show_dir
