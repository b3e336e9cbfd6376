"""The few-shot protocol of Point-BERT / Point-MAE / ACT / ReCon on ModelNet40.

A fold of "K-way N-shot": K classes drawn at random; N training objects per class from the train
split and ``query`` (20) test objects per class from the test split; labels renumbered 0..K-1 in the
order the classes were drawn. 10 folds; the result is mean +- std of the per-fold accuracies.
Folds are drawn from ``numpy.random.default_rng(seed)`` and saved as JSON (indices into the splits),
so every method is evaluated on the same objects.
"""
from __future__ import annotations

import json
import os

import numpy as np

from voxclip.utils.atomic import atomic_save_json

__all__ = ["make_folds", "save_folds", "load_folds", "fold_summary"]


def make_folds(train_labels, test_labels, way: int, shot: int, num_folds: int = 10, query: int = 20,
               seed: int = 0) -> list[dict]:
    """-> [{fold, classes (K original ids), train (K*N indices), test (K*query indices)}].

    Only classes with at least ``shot`` train and ``query`` test objects can be drawn.
    """
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    classes = np.unique(train_labels)
    ok = [c for c in classes if (train_labels == c).sum() >= shot and (test_labels == c).sum() >= query]
    if len(ok) < way:
        raise ValueError(f"few-shot {way}-way {shot}-shot: only {len(ok)} classes have >= {shot} train and "
                         f">= {query} test objects")
    rng = np.random.default_rng(seed)
    folds = []
    for k in range(num_folds):
        chosen = [int(c) for c in rng.choice(ok, way, replace=False)]
        tr, te = [], []
        for c in chosen:
            tr += sorted(int(i) for i in rng.choice(np.flatnonzero(train_labels == c), shot, replace=False))
            te += sorted(int(i) for i in rng.choice(np.flatnonzero(test_labels == c), query, replace=False))
        folds.append(dict(fold=k, classes=chosen, train=tr, test=te))
    return folds


def save_folds(path: str, folds: list[dict], way: int, shot: int, seed: int, query: int, source: str = "") -> None:
    atomic_save_json(path, dict(way=way, shot=shot, seed=seed, query=query, source=source, folds=folds))


def load_folds(path: str) -> dict:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: few-shot fold file missing; write it with: python tools/few_shot.py "
                                "folds PREPARED_ROOT --way K --shot N (docs/objects.md)")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        doc["folds"][0]["train"]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"{path}: not a few-shot fold file ({exc})") from exc
    return doc


def fold_summary(accs) -> tuple[float, float]:
    """(mean, std) of per-fold accuracies; std is the population std (numpy's default), as the
    released few-shot scripts print it."""
    a = np.asarray(accs, np.float64)
    return float(a.mean()), float(a.std())
