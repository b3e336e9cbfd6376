"""Indoor mAP: hand-worked cases (numbers derived in the comments) and a plain-loop reference."""
import math
import os

import numpy as np
import pytest
import torch

from voxclip.evaluation import IndoorDetMetric, indoor_map, save_pr_curves, voc_ap
from voxclip.registry import METRICS


def cube(x, y=0.0, z=0.0, size=1.0, dx=None):
    return [x, y, z, dx if dx is not None else size, size, size, 0.0]


def P(boxes, labels, scores):
    return {"boxes": np.array(boxes, dtype=float).reshape(-1, 7), "labels": np.array(labels, dtype=np.int64),
            "scores": np.array(scores, dtype=float)}


def G(boxes, labels):
    return {"boxes": np.array(boxes, dtype=float).reshape(-1, 7), "labels": np.array(labels, dtype=np.int64)}


# ---------------------------------------------------------------- hand-worked cases
def test_duplicate_detection_is_a_false_positive():
    # gts A (x=0), B (x=10). p1 on A (0.9), p2 duplicate of A (0.8), p3 on B (0.7).
    # TP/FP = 1,0,1; recall .5,.5,1; precision 1,.5,2/3; envelope 1 up to recall .5, then 2/3.
    # AP = .5*1 + .5*2/3 = 5/6. Counting the duplicate as TP would give recall > 1 / AP 1.
    r = indoor_map([P([cube(0), cube(0), cube(10)], [0, 0, 0], [0.9, 0.8, 0.7])],
                   [G([cube(0), cube(10)], [0, 0])], ["a"])
    for t in ("0.25", "0.5"):
        assert r[f"AP@{t}/a"] == pytest.approx(5 / 6)
        assert r[f"mAP@{t}"] == pytest.approx(5 / 6)
        assert r[f"AR@{t}"] == pytest.approx(1.0)


def test_best_gt_taken_means_false_positive_without_fallback():
    # gts G1 (x=0), G2 (x=0.4), unit cubes. p1 (0.9) at x=0: IoU(G1)=1 -> TP.
    # p2 (0.8) at x=0.1: IoU(G1)=0.9/1.1=.818 is its best, IoU(G2)=0.7/1.3=.538 > .5,
    # but its best gt G1 is taken -> FP. TP/FP = 1,0; recall .5,.5; precision 1,.5 -> AP@0.5 = 0.5.
    r = indoor_map([P([cube(0), cube(0.1)], [0, 0], [0.9, 0.8])], [G([cube(0), cube(0.4)], [0, 0])], ["a"])
    assert r["AP@0.5/a"] == pytest.approx(0.5)
    assert r["AR@0.5/a"] == pytest.approx(0.5)


def test_iou_equal_to_threshold_is_false_positive():
    # gt 2x1x1 box centred at 0; pred a unit cube at x=0.5 lies inside it: IoU = 1/2 exactly.
    # A second gt (4x1x1, far away) with a unit cube inside: IoU = 1/4 exactly.
    gts = [G([cube(0, dx=2.0), cube(20, dx=4.0)], [0, 0])]
    preds = [P([cube(0.5), cube(20)], [0, 0], [0.9, 0.8])]
    r = indoor_map(preds, gts, ["a"], iou_thresholds=(0.25, 0.5))
    # thr .5: both FP -> AP 0. thr .25: first TP, second (IoU exactly .25) FP:
    # recall .5,.5; precision 1,.5 -> AP .5.
    assert r["AP@0.5/a"] == 0.0
    assert r["AP@0.25/a"] == pytest.approx(0.5)
    r2 = indoor_map(preds, gts, ["a"], iou_thresholds=(0.2499, 0.4999))
    assert r2["AP@0.2499/a"] == pytest.approx(1.0)  # both just above the lowered thresholds
    assert r2["AP@0.4999/a"] == pytest.approx(0.5)


def test_class_without_gt_is_excluded_and_class_without_preds_scores_zero():
    # classes a, b, c. a: one gt, one perfect pred -> AP 1. b: a pred but no gt -> excluded.
    # c: one gt, no pred -> AP 0. mAP = (1 + 0) / 2 = .5 (not NaN, not 1/3, not a shifted index).
    preds = [P([cube(0), cube(5)], [0, 1], [0.9, 0.95])]
    gts = [G([cube(0), cube(9)], [0, 2])]
    r = indoor_map(preds, gts, ["a", "b", "c"])
    for t in ("0.25", "0.5"):
        assert r[f"AP@{t}/a"] == 1.0 and r[f"AP@{t}/c"] == 0.0
        assert f"AP@{t}/b" not in r
        assert r[f"mAP@{t}"] == pytest.approx(0.5)
        assert r[f"AR@{t}"] == pytest.approx(0.5)
    pc = {d["name"]: d for d in r["per_class"]}
    assert pc["b"]["AP@0.5"] is None and pc["b"]["num_pred"] == 1 and pc["b"]["num_gt"] == 0
    assert pc["c"]["AP@0.5"] == 0.0 and pc["c"]["num_pred"] == 0
    assert all(not (isinstance(v, float) and math.isnan(v)) for v in r.values())


def test_empty_scenes_and_scene_isolation():
    # S0: nothing. S1: gt G1 at 0 and a matching pred (0.5). S2: a pred (0.9) with G1's geometry but no
    # gt in its own scene -> FP (must not match S1's gt). S3: gt, no pred.
    # Ranked: 0.9 FP, 0.5 TP; n_gt 2 -> recall 0,.5; precision 0,.5; envelope .5 up to recall .5:
    # AP = .5 * .5 = .25; AR = .5.
    preds = [P([], [], []), P([cube(0)], [0], [0.5]), P([cube(0)], [0], [0.9]), P([], [], [])]
    gts = [G([], []), G([cube(0)], [0]), G([], []), G([cube(3)], [0])]
    r = indoor_map(preds, gts, ["a"])
    assert r["AP@0.5/a"] == pytest.approx(0.25)
    assert r["AR@0.5/a"] == pytest.approx(0.5)
    # No scenes at all, or no gt at all: zeros, no NaN, no crash.
    with pytest.warns(UserWarning):
        assert indoor_map([], [], ["a"])["mAP@0.5"] == 0.0


def test_all_point_envelope_hand_value():
    # 4 gts; ranked TP/FP = 1,0,1,0,0,1 -> recall .25,.25,.5,.5,.5,.75,
    # precision 1,1/2,2/3,1/2,2/5,1/2. Envelope: 1 on (0,.25], 2/3 on (.25,.5], 1/2 on (.5,.75].
    # AP = .25 * (1 + 2/3 + 1/2) = 13/24 (the 11-point variant would give a different number).
    xs = [0, 10, 20, 30]
    preds = [P([cube(0), cube(50), cube(10), cube(60), cube(70), cube(20)], [0] * 6,
               [0.9, 0.8, 0.7, 0.6, 0.5, 0.4])]
    r = indoor_map(preds, [G([cube(x) for x in xs], [0] * 4)], ["a"])
    assert r["AP@0.5/a"] == pytest.approx(13 / 24)
    assert voc_ap(np.array([0.25, 0.25, 0.5, 0.5, 0.5, 0.75]),
                  np.array([1, 1 / 2, 2 / 3, 1 / 2, 2 / 5, 1 / 2])) == pytest.approx(13 / 24)
    curve = r["pr_curves"]["0.5"]["a"]
    np.testing.assert_allclose(curve["recall"], [0.25, 0.25, 0.5, 0.5, 0.5, 0.75])


def test_rotated_boxes_use_rotated_iou():
    # Side-2 squares, one turned 45 degrees about the same centre: IoU = 1/sqrt(2) ~ .707
    # (axis-aligned treatment would say 1). TP at .5 and at .7, FP at .75.
    gt = G([[0, 0, 0, 2, 2, 1, math.pi / 4]], [0])
    pred = P([[0, 0, 0, 2, 2, 1, 0.0]], [0], [1.0])
    r = indoor_map([pred], [gt], ["a"], iou_thresholds=(0.7, 0.75))
    assert r["AP@0.7/a"] == 1.0 and r["AP@0.75/a"] == 0.0


def test_bad_input_is_reported():
    with pytest.raises(ValueError, match=r"predictions\[0\].*labels"):
        indoor_map([P([cube(0)], [3], [1.0])], [G([], [])], ["a", "b"])
    with pytest.raises(ValueError, match="scenes"):
        indoor_map([P([], [], [])], [], ["a"])
    with pytest.raises(KeyError, match="scores"):
        indoor_map([{"boxes": np.zeros((0, 7)), "labels": np.zeros(0, int)}], [G([], [])], ["a"])


# ---------------------------------------------------------------- plain-loop reference on random scenes
def ref_iou_aa(a, b):
    inter = 1.0
    for k in range(3):
        lo = max(a[k] - a[k + 3] / 2, b[k] - b[k + 3] / 2)
        hi = min(a[k] + a[k + 3] / 2, b[k] + b[k + 3] / 2)
        inter *= max(0.0, hi - lo)
    return inter / (a[3] * a[4] * a[5] + b[3] * b[4] * b[5] - inter)


def ref_ap(preds, gts, C, thr):
    """The protocol written as loops over classes, predictions and ground truths."""
    aps = {}
    for c in range(C):
        dets = [(s, p["scores"][i], i, p["boxes"][i]) for s, p in enumerate(preds)
                for i in range(len(p["labels"])) if p["labels"][i] == c]
        dets.sort(key=lambda d: -d[1])  # stable: scene order, then index order on ties
        cls_gt = {s: [g["boxes"][j] for j in range(len(g["labels"])) if g["labels"][j] == c] for s, g in enumerate(gts)}
        n_gt = sum(len(v) for v in cls_gt.values())
        if n_gt == 0:
            continue
        taken = {s: [False] * len(v) for s, v in cls_gt.items()}
        tp = []
        for s, _, _, box in dets:
            best, best_j = -np.inf, -1
            for j, g in enumerate(cls_gt[s]):
                iou = ref_iou_aa(box, g)
                if iou > best:
                    best, best_j = iou, j
            if best > thr and not taken[s][best_j]:
                taken[s][best_j] = True
                tp.append(1)
            else:
                tp.append(0)
        cum = np.cumsum(tp)
        rec = cum / n_gt
        prec = cum / np.arange(1, len(tp) + 1)
        # Envelope and area written out point by point.
        rr = [0.0] + list(rec) + [1.0]
        pp = [0.0] + list(prec) + [0.0]
        for i in range(len(pp) - 2, -1, -1):
            pp[i] = max(pp[i], pp[i + 1])
        aps[c] = sum((rr[i + 1] - rr[i]) * pp[i + 1] for i in range(len(rr) - 1))
    return aps


def random_eval(rng, n_scenes, C):
    preds, gts = [], []
    for s in range(n_scenes):
        m = int(rng.integers(0, 6))
        gb = np.c_[rng.uniform(-2, 2, (m, 3)), rng.uniform(0.4, 1.2, (m, 3)), np.zeros(m)]
        gl = rng.integers(0, C, m)
        k = int(rng.integers(0, 9))
        src = rng.integers(0, max(m, 1), k)
        pb = (gb[src] if m else np.c_[rng.uniform(-2, 2, (k, 3)), np.ones((k, 3)), np.zeros(k)]).copy()
        pb[:, :3] += rng.normal(0, 0.08, (k, 3))
        pl = np.where(rng.random(k) < 0.7, gl[src] if m else 0, rng.integers(0, C, k))
        scores = rng.choice(np.linspace(0.05, 1, 12), k)  # coarse grid: plenty of score ties
        preds.append(P(pb, pl, scores))
        gts.append(G(gb, gl))
    return preds, gts


def test_matches_plain_loop_reference_on_random_scenes():
    rng = np.random.default_rng(0)
    C = 5
    names = [f"c{i}" for i in range(C)]
    preds, gts = random_eval(rng, 40, C)
    r = indoor_map(preds, gts, names, iou_thresholds=(0.25, 0.5))
    for thr in (0.25, 0.5):
        ref = ref_ap(preds, gts, C, thr)
        assert 0 < len(ref) <= C
        for c, ap in ref.items():
            assert r[f"AP@{thr:g}/c{c}"] == pytest.approx(ap, abs=1e-12)
        assert r[f"mAP@{thr:g}"] == pytest.approx(np.mean(list(ref.values())), abs=1e-12)
    assert 0.05 < r["mAP@0.5"] < 0.95  # neither trivially perfect nor trivially zero


def test_torch_inputs_equal_numpy_inputs():
    rng = np.random.default_rng(1)
    preds, gts = random_eval(rng, 10, 3)
    tp = [{k: torch.as_tensor(v).float() if k != "labels" else torch.as_tensor(v) for k, v in p.items()} for p in preds]
    tg = [{k: torch.as_tensor(v).float() if k != "labels" else torch.as_tensor(v) for k, v in g.items()} for g in gts]
    names = ["a", "b", "c"]
    ref = ref_ap(preds, gts, 3, 0.25)
    r = indoor_map(tp, tg, names)
    for c, ap in ref.items():
        assert r[f"AP@0.25/{names[c]}"] == pytest.approx(ap, abs=1e-5)


# ---------------------------------------------------------------- mmengine metric and PR curves
def test_metric_from_registry_on_model_outputs(tmp_path):
    metric = METRICS.build(dict(type="IndoorDetMetric", pr_curve_dir=str(tmp_path / "pr"),
                                out_file=str(tmp_path / "res.pkl")))
    metric.dataset_meta = {"classes": ["a", "b", "c"]}
    # Same numbers as test_duplicate_detection_is_a_false_positive (class a, AP 5/6) split over two
    # batches, plus class c with gt and no prediction (AP 0): mAP = (5/6 + 0) / 2 = 5/12.
    t = lambda x: torch.tensor(x, dtype=torch.float32)  # noqa: E731
    batch1 = [{"boxes": t([cube(0), cube(0)]), "labels": torch.tensor([0, 0]), "scores": t([0.9, 0.8]),
               "gt_boxes": t([cube(0)]), "gt_labels": torch.tensor([0])}]
    batch2 = [{"boxes": t([cube(10)]), "labels": torch.tensor([0]), "scores": t([0.7]),
               "gt_boxes": t([cube(10), cube(30)]), "gt_labels": torch.tensor([0, 2])}]
    # Splitting into scenes changes nothing: every prediction has the same best gt as before.
    metric.process({}, batch1)
    metric.process({}, batch2)
    out = metric.evaluate(2)
    assert out["AP@0.5/a"] == pytest.approx(5 / 6)
    assert out["AP@0.5/c"] == 0.0
    assert out["mAP@0.5"] == pytest.approx(5 / 12)
    assert "AP@0.5/b" not in out and all(isinstance(v, float) for v in out.values())
    pngs = sorted(os.listdir(tmp_path / "pr"))
    assert pngs == ["pr_a.png", "pr_c.png", "pr_sheet.png"]
    assert (tmp_path / "pr" / "pr_a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "res.pkl").stat().st_size > 0


def test_metric_rejects_incomplete_samples():
    metric = IndoorDetMetric(class_names=["a"])
    with pytest.raises(KeyError, match="gt_boxes"):
        metric.process({}, [{"boxes": torch.zeros(0, 7), "labels": torch.zeros(0), "scores": torch.zeros(0)}])


def test_save_pr_curves_direct(tmp_path):
    r = indoor_map([P([cube(0)], [0], [1.0])], [G([cube(0)], [0])], ["chair/x"])
    paths = save_pr_curves(r, str(tmp_path))
    assert [os.path.basename(p) for p in paths] == ["pr_chair_x.png"]
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".")]  # no temp files left
