#!/usr/bin/env python
"""The few-shot protocol on a prepared ModelNet40 cache (docs/objects.md).

    python tools/few_shot.py folds PREPARED --way 5 --shot 10 [--folds 10] [--query 20] [--seed 0] --out FILE
    python tools/few_shot.py run CONFIG --folds FILE [--work-dir DIR] [--only K ...] [--cfg-options k=v ...]

`folds` draws the folds (K classes, N train objects per class from the train split, --query test
objects per class from the test split) from numpy's default_rng(seed) and saves them as JSON
(indices into the prepared splits). `run` trains CONFIG once per fold (few_shot file/fold and
model.num_classes set from FILE), takes each fold's best test OA (the released protocol's
selection) and prints per-fold figures and mean +- std; a JSON summary goes to DIR/summary.json.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from voxclip.datasets.objects import fold_summary, load_folds, make_folds, read_prepared, save_folds  # noqa: E402
from voxclip.utils.atomic import atomic_save_json  # noqa: E402


def cmd_folds(a) -> int:
    train, test = read_prepared(a.prepared, "train"), read_prepared(a.prepared, "test")
    folds = make_folds(train.labels, test.labels, a.way, a.shot, a.folds, a.query, a.seed)
    save_folds(a.out, folds, a.way, a.shot, a.seed, a.query, source=osp.abspath(a.prepared))
    print(f"{a.way}-way {a.shot}-shot: {len(folds)} folds (seed {a.seed}) -> {a.out}")
    return 0


def cmd_run(a) -> int:
    import train as train_tool

    doc = load_folds(a.folds)
    work = a.work_dir or osp.join("work_dirs", f"fewshot_{doc['way']}way_{doc['shot']}shot")
    accs = []
    for fold in doc["folds"]:
        k = fold["fold"]
        if a.only and k not in a.only:
            continue
        opts = {"train_dataloader.dataset.few_shot": dict(file=a.folds, fold=k),
                "val_dataloader.dataset.few_shot": dict(file=a.folds, fold=k),
                "test_dataloader.dataset.few_shot": dict(file=a.folds, fold=k),
                "model.num_classes": doc["way"], "randomness.seed": k, **(a.cfg_options or {})}
        args = train_tool.parse_args([a.config, "--work-dir", osp.join(work, f"fold_{k}")])
        args.cfg_options = opts
        runner = train_tool.build_runner(args)
        runner.train()
        best = runner.message_hub.get_info("best_score")
        if best is None:
            best = runner.val_loop.run()["OA"]
        accs.append((k, float(best)))
        print(f"fold {k}: OA {best:.2f}")
    mean, std = fold_summary([v for _, v in accs])
    line = f"{doc['way']}-way {doc['shot']}-shot over {len(accs)} folds: {mean:.1f} +- {std:.1f}"
    atomic_save_json(osp.join(work, "summary.json"), dict(way=doc["way"], shot=doc["shot"], folds=accs, mean=mean,
                                                          std=std, fold_file=osp.abspath(a.folds)))
    print(line)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("folds")
    f.add_argument("prepared")
    f.add_argument("--way", type=int, required=True)
    f.add_argument("--shot", type=int, required=True)
    f.add_argument("--folds", type=int, default=10)
    f.add_argument("--query", type=int, default=20)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--out", required=True)
    r = sub.add_parser("run")
    r.add_argument("config")
    r.add_argument("--folds", required=True)
    r.add_argument("--work-dir")
    r.add_argument("--only", type=int, nargs="+", help="run only these fold numbers")
    r.add_argument("--cfg-options", nargs="+", action=DictAction)
    a = p.parse_args(argv)
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    try:
        return cmd_folds(a) if a.cmd == "folds" else cmd_run(a)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
