#!/usr/bin/env python
"""Pictures of prepared scenes or of saved predictions (tools/test.py --out), headless.

    python tools/visualize.py DATA_ROOT [--split val] [--scenes ID ...] [--max-scenes N] [--out DIR]
                              [--dataset-type ScanNetDetection] [--color rgb|label] [--predictions PKL]
                              [--score-thr T] [--no-ply]

Without --predictions: each scene's points (RGB, or coloured by its segmentation labels with
--color label) and ground-truth boxes -> `<id>_bev.png`, `<id>_persp.png`, `<id>.ply`.
With a detection pickle: predicted boxes (with scores) over the same scene, ground truth dashed.
With a segmentation pickle: prediction | ground truth side by side (`<id>_seg.png`, `<id>_seg.ply`).
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import pickle
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from voxclip.engine.cli import run_cli  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Draw prepared scenes or saved predictions")
    p.add_argument("data_root")
    p.add_argument("--split", default="val")
    p.add_argument("--scenes", nargs="+", help="scene ids (default: every scene of the split / pickle)")
    p.add_argument("--max-scenes", type=int, default=None)
    p.add_argument("--out", default="vis_out")
    p.add_argument("--dataset-type", default="ScanNetDetection",
                   help="registered dataset reading DATA_ROOT (ScanNetDetection, SUNRGBDDetection, "
                        "PointceptScanNetDetection, ...)")
    p.add_argument("--color", choices=["rgb", "label"], default="rgb", help="point colours: RGB or segment labels")
    p.add_argument("--predictions", help="pickle written by tools/test.py --out")
    p.add_argument("--score-thr", type=float, default=0.1)
    p.add_argument("--no-ply", action="store_true")
    return p.parse_args(argv)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """tools/test.py --out pickles hold dicts, lists, numbers, strings and numpy arrays: nothing else loads."""

    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("collections", "OrderedDict")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"the pickle holds {module}.{name}, not only arrays and plain data")


def _load_predictions(path: str) -> dict:
    if not osp.isfile(path):
        raise FileNotFoundError(f"{path}: predictions file not found")
    with open(path, "rb") as f:
        try:
            data = _NumpyOnlyUnpickler(f).load()
        except pickle.UnpicklingError as exc:
            raise ValueError(f"{path}: refused: {exc}") from None
        except Exception as exc:
            raise ValueError(f"{path}: not a tools/test.py --out pickle ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not ({"predictions", "ground_truths"} <= set(data) or "samples" in data):
        raise ValueError(f"{path}: not a tools/test.py --out pickle (keys {sorted(data) if isinstance(data, dict) else type(data)})")
    return data


def main(argv=None) -> list:
    args = parse_args(argv)
    from voxclip.engine.setup import import_all_modules
    from voxclip.registry import DATASETS
    from voxclip.visualization import BoxSet, label_colors, render_detection, render_segmentation

    import_all_modules()
    kwargs = dict(type=args.dataset_type, data_root=args.data_root, split=args.split)
    if args.color == "label":
        kwargs["with_semantic"] = True
    ds = DATASETS.build(kwargs)
    infos = {ds.get_data_info(i)["scene_id"]: ds.get_data_info(i) for i in range(len(ds))}
    names = tuple(ds.metainfo.get("classes", ()))
    preds = _load_predictions(args.predictions) if args.predictions else None
    written, drawn = [], 0

    def scene_points(scene_id):
        if scene_id not in infos:
            raise ValueError(f"{args.data_root}: scene {scene_id!r} is not in split {args.split!r}")
        return ds.load_sample(infos[scene_id])

    if preds is not None and "samples" in preds:  # segmentation
        seg_names = tuple(preds.get("class_names") or names)
        for s in preds["samples"]:
            if (args.scenes and s["scene_id"] not in args.scenes) or "points" not in s:
                continue
            written += render_segmentation(args.out, s["scene_id"], s["points"], s["pred_semantic"],
                                           s.get("gt_semantic"), seg_names, ply=not args.no_ply)
            drawn += 1
            if args.max_scenes and drawn >= args.max_scenes:
                break
        if not drawn:
            raise ValueError(f"{args.predictions}: no scene with saved points (re-run tools/test.py --out with this version)")
    elif preds is not None:  # detection
        for pred, gt in zip(preds["predictions"], preds["ground_truths"]):
            scene = gt.get("scene_id")
            if scene is None:
                raise ValueError(f"{args.predictions}: predictions carry no scene ids (re-run tools/test.py --out)")
            if args.scenes and scene not in args.scenes:
                continue
            sample = scene_points(scene)
            written += render_detection(args.out, scene, sample["points"], sample.get("colors"), names,
                                        BoxSet(gt["boxes"], gt["labels"]),
                                        BoxSet(pred["boxes"], pred["labels"], pred["scores"]),
                                        score_thr=args.score_thr, ply=not args.no_ply)
            drawn += 1
            if args.max_scenes and drawn >= args.max_scenes:
                break
    else:  # prepared data
        for scene in args.scenes or list(infos):
            sample = scene_points(scene)
            colors = sample.get("colors")
            if args.color == "label":
                from voxclip.classes import SCANNET_SEG_CLASSES

                colors = label_colors(sample["semantic"], len(SCANNET_SEG_CLASSES))
            written += render_detection(args.out, scene, sample["points"], colors, names,
                                        BoxSet(sample["gt_boxes"], sample["gt_labels"]), None, ply=not args.no_ply)
            drawn += 1
            if args.max_scenes and drawn >= args.max_scenes:
                break
    os.makedirs(args.out, exist_ok=True)
    print(f"visualize: {drawn} scene(s), {len(written)} files in {args.out}")
    return written


if __name__ == "__main__":
    run_cli(main)
