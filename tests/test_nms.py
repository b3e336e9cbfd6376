"""3D NMS against a plain greedy loop and a hand-worked chain."""

import numpy as np
import pytest
import torch

from voxclip.ops.iou3d import boxes_iou3d
from voxclip.ops.nms import batched_nms3d, nms3d


def brute_nms(boxes, scores, thr):
    """Textbook greedy NMS: visit by score, keep a box unless a kept box overlaps it by more than thr."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    kept = []
    for i in order:
        if all(boxes_iou3d(boxes[i:i + 1], boxes[k:k + 1])[0, 0] <= thr for k in kept):
            kept.append(i)
    return kept


def random_scene(rng, n, yaw=True):
    """Boxes jittered around a few object centres, so that every threshold suppresses something."""
    base = np.c_[rng.uniform(-3, 3, (5, 2)), rng.uniform(0, 0.5, 5), rng.uniform(0.5, 1.5, (5, 3))]
    b = base[rng.integers(0, 5, n)] + np.c_[rng.normal(0, 0.15, (n, 3)), rng.normal(0, 0.1, (n, 3))]
    b = np.c_[b, rng.normal(0, 0.4, n) if yaw else np.zeros(n)]
    return b, rng.random(n)


@pytest.mark.parametrize("yaw", [False, True])
@pytest.mark.parametrize("thr", [0.1, 0.25, 0.5])
def test_nms_matches_brute_force(yaw, thr):
    rng = np.random.default_rng(int(thr * 100) + yaw)
    boxes, scores = random_scene(rng, 40, yaw)
    keep = nms3d(boxes, scores, thr)
    ref = brute_nms(boxes, scores, thr)
    assert 1 < len(ref) < 40  # the case actually suppresses something
    assert keep.tolist() == ref


def test_nms_hand_chain_and_strict_threshold():
    # A (0.9) and B (0.8) overlap with IoU 0.6 (x offset 0.25 on 1 m cubes: 0.75 / 1.25);
    # C (0.7) overlaps only B. B goes, so C survives: keep [A, C].
    boxes = np.array([[0, 0, 0, 1, 1, 1, 0], [0.25, 0, 0, 1, 1, 1, 0], [1.0, 0, 0, 1, 1, 1, 0]], dtype=float)
    scores = np.array([0.9, 0.8, 0.7])
    assert nms3d(boxes, scores, 0.5).tolist() == [0, 2]
    # IoU exactly at the threshold is not suppressed (strict >): a cube half inside a 2x1x1 box.
    pair = np.array([[0, 0, 0, 2, 1, 1, 0], [0.5, 0, 0, 1, 1, 1, 0]], dtype=float)
    assert nms3d(pair, np.array([0.5, 0.9]), 0.5).tolist() == [1, 0]
    assert nms3d(pair, np.array([0.5, 0.9]), 0.49).tolist() == [1]


def test_batched_nms_is_per_class_brute_force():
    rng = np.random.default_rng(11)
    boxes, scores = random_scene(rng, 60)
    labels = rng.integers(0, 3, 60)
    keep = batched_nms3d(boxes, scores, labels, 0.25)
    ref = []
    for c in range(3):
        idx = np.flatnonzero(labels == c)
        ref += [int(idx[k]) for k in brute_nms(boxes[idx], scores[idx], 0.25)]
    ref.sort(key=lambda i: (-scores[i], i))
    assert keep.tolist() == ref
    # Identical boxes of different classes never suppress each other.
    same = np.repeat(boxes[:1], 2, axis=0)
    assert sorted(batched_nms3d(same, np.array([0.9, 0.8]), np.array([0, 1]), 0.1).tolist()) == [0, 1]


def test_torch_input_gives_long_tensor_and_empty_input():
    rng = np.random.default_rng(12)
    boxes, scores = random_scene(rng, 15)
    keep = nms3d(torch.from_numpy(boxes).float(), torch.from_numpy(scores).float(), 0.25)
    assert isinstance(keep, torch.Tensor) and keep.dtype == torch.long
    assert keep.tolist() == brute_nms(boxes.astype(np.float32), scores.astype(np.float32), 0.25)
    assert nms3d(np.zeros((0, 7)), np.zeros(0), 0.5).shape == (0,)
    assert batched_nms3d(torch.zeros(0, 7), torch.zeros(0), torch.zeros(0, dtype=torch.long), 0.5).numel() == 0
    with pytest.raises(ValueError):
        nms3d(np.zeros((3, 7)), np.zeros(2), 0.5)
