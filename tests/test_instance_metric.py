"""Instance AP (ScanNet benchmark rules) and S3DIS mPrec/mRec against hand-worked cases and brute force."""
import numpy as np
import pytest

from voxclip.evaluation import InstanceSegMetric, instance_ap, match_scene, precision_recall_at, summarize_ap


def _scene(sizes, labels, void=0):
    """gt arrays for consecutive instances of the given sizes and classes, then `void` unlabelled points."""
    sem = np.concatenate([np.full(n, c) for n, c in zip(sizes, labels)] + [np.full(void, -1)])
    inst = np.concatenate([np.full(n, i) for i, n in enumerate(sizes)] + [np.full(void, -1)])
    return sem, inst


def _mask(n, *ranges):
    m = np.zeros(n, bool)
    for a, b in ranges:
        m[a:b] = True
    return m


def _ap50(scene_args, num_classes=1, min_size=1):
    scenes = [match_scene(*a, min_region_size=min_size) for a in scene_args]
    return instance_ap(scenes, num_classes, overlaps=[0.5], min_region_size=min_size)[:, 0]


def test_duplicate_with_lower_score_costs_nothing():
    # 1 GT, a perfect prediction (0.9) and a duplicate (0.8): the duplicate is a false positive below
    # the true positive, so precision is 1 wherever recall is 1: AP = 1 (hand-worked in the docstring rules).
    sem, inst = _scene([10], [0])
    masks = np.stack([_mask(10, (0, 10)), _mask(10, (0, 9))])
    assert _ap50([(sem, inst, masks, [0, 0], [0.9, 0.8])]) == pytest.approx([1.0])


def test_false_positive_above_true_positive_hand_value():
    # 2 GT; a false positive at 0.9 (on neither), a match of GT 0 at 0.5, GT 1 missed (hard FN).
    # Curve points (ascending score): t=0.5: tp 1 fp 1 fn 1 -> p .5 r .5; t=0.9: tp 0 fp 1 -> p 0 r 0;
    # appended (p 1, r 0). Step widths .5*(r[k-1]-r[k+1]) with r[-1]=r[0]: .25, .25, 0 -> AP = .125.
    sem, inst = _scene([10, 10], [0, 0], void=0)
    sem = np.concatenate([sem, np.zeros(10, int)])
    inst = np.concatenate([inst, np.full(10, -1)])  # labelled but unassigned points (not void)
    masks = np.stack([_mask(30, (20, 30)), _mask(30, (0, 10))])
    assert _ap50([(sem, inst, masks, [0, 0], [0.9, 0.5])]) == pytest.approx([0.125])


def test_void_predictions_and_small_instances_are_ignored():
    sem, inst = _scene([50, 5], [0, 0], void=20)
    on_void = _mask(75, (55, 75))
    on_small = _mask(75, (50, 55))
    good = _mask(75, (0, 50))
    args = (sem, inst, np.stack([good, on_void, on_small]), [0, 0, 0], [0.5, 0.9, 0.8])
    # min size 10: the 5-point GT is not counted and the predictions on void / on it are no false positives
    assert _ap50([args], min_size=5)[0] == pytest.approx(1.0)  # prediction on_small (5 pts) kept, matches GT 1
    assert _ap50([args], min_size=10)[0] == pytest.approx(1.0)
    # without the void rule the 0.9 false positive would sit above the match: check it is counted when
    # the points are labelled instead of void
    sem2 = sem.copy()
    sem2[55:75] = 0
    assert _ap50([(sem2, inst, args[2], args[3], args[4])], min_size=10)[0] < 0.5


def test_classes_do_not_match_each_other_and_absent_class_is_nan():
    sem, inst = _scene([20, 20], [0, 1])
    masks = np.stack([_mask(40, (0, 20))])
    ap = _ap50([(sem, inst, masks, [1], [0.9])], num_classes=3)
    assert ap[0] == 0.0 and ap[1] == 0.0 and np.isnan(ap[2])


def _brute_ap50(scenes_raw, num_classes, min_size):
    """Independent AP@0.5: at IoU > 0.5 a prediction can match one GT only, so each GT's candidates
    are fixed; the GT's score is its best candidate's, the others are false positives."""
    out = []
    for c in range(num_classes):
        tps, fps, n_gt = [], [], 0
        for sem, inst, masks, labels, scores in scenes_raw:
            keep = [p for p in range(len(masks)) if masks[p].sum() >= min_size and labels[p] == c]
            ids = [i for i in np.unique(inst[inst >= 0]) if np.bincount(sem[inst == i]).argmax() == c]
            big = [i for i in ids if (inst == i).sum() >= min_size]
            n_gt += len(big)
            matched = set()
            for g in big:
                cand = [p for p in keep if (masks[p] & (inst == g)).sum() /
                        (masks[p] | (inst == g)).sum() > 0.5]
                matched |= set(cand)
                if cand:
                    best = max(scores[p] for p in cand)
                    tps.append(best)
                    fps += sorted(scores[p] for p in cand)[:-1]
            for p in keep:
                if p in matched or any((masks[p] & (inst == g)).sum() / (masks[p] | (inst == g)).sum() > 0.5
                                       for g in ids):
                    continue
                ignored = (masks[p] & (sem < 0)).sum() + sum((masks[p] & (inst == g)).sum() for g in ids
                                                              if (inst == g).sum() < min_size)
                if ignored / masks[p].sum() <= 0.5:
                    fps.append(scores[p])
        if n_gt == 0:
            out.append(np.nan)
            continue
        if not tps and not fps:
            out.append(0.0)
            continue
        thresholds = sorted(set(tps) | set(fps))
        prec = [sum(s >= t for s in tps) / (sum(s >= t for s in tps) + sum(s >= t for s in fps)) for t in thresholds]
        rec = [sum(s >= t for s in tps) / n_gt for t in thresholds]
        prec, rec = prec + [1.0], rec + [0.0]
        ap = 0.0
        for k in range(len(prec)):
            before = rec[k - 1] if k > 0 else rec[0]
            after = rec[k + 1] if k + 1 < len(rec) else 0.0
            ap += prec[k] * 0.5 * (before - after)
        out.append(ap)
    return np.array(out)


@pytest.mark.parametrize("seed", range(6))
def test_ap50_matches_brute_force_on_random_instances(seed):
    rng = np.random.default_rng(seed)
    scenes = []
    for _ in range(2):
        sizes = rng.integers(5, 60, size=rng.integers(3, 8))
        labels = rng.integers(0, 3, size=len(sizes))
        sem, inst = _scene(sizes, labels, void=int(rng.integers(0, 30)))
        n = len(sem)
        masks, plabels, scores = [], [], []
        for i in range(len(sizes)):
            for _ in range(rng.integers(0, 3)):  # noisy copies (duplicates included)
                m = inst == i
                flip = rng.random(n) < rng.uniform(0.0, 0.3) * m.mean() * 4
                masks.append(m ^ flip)
                plabels.append(labels[i] if rng.random() < 0.85 else rng.integers(0, 3))
                scores.append(round(float(rng.random()), 2))  # ties on purpose
        for _ in range(rng.integers(0, 4)):  # pure noise
            masks.append(rng.random(n) < 0.1)
            plabels.append(rng.integers(0, 3))
            scores.append(round(float(rng.random()), 2))
        scenes.append((sem, inst, np.array(masks).reshape(-1, n), np.array(plabels), np.array(scores)))
    got = _ap50(scenes, num_classes=3, min_size=8)
    np.testing.assert_allclose(got, _brute_ap50(scenes, 3, 8), equal_nan=True)


def test_summary_averages_nine_thresholds():
    ap = np.tile(np.arange(10, dtype=float)[None], (2, 1))  # overlaps .5..,.9 then .25
    ap[1, :] = np.nan
    s = summarize_ap(ap)
    assert s["AP"] == pytest.approx(np.mean(np.arange(9))) and s["AP@0.5"] == 0 and s["AP@0.25"] == 9


def test_s3dis_precision_recall_hand_case():
    sem, inst = _scene([10, 10, 10], [0, 0, 1])
    masks = np.stack([_mask(30, (0, 10)), _mask(30, (0, 4)), _mask(30, (20, 30)), _mask(30, (0, 10))])
    s = match_scene(sem, inst, masks, [0, 0, 1, 1], [0.9, 0.8, 0.7, 0.6], min_region_size=1)
    prec, rec = precision_recall_at([s], 2)
    # class 0: preds IoU 1.0, 0.4 -> 1 TP of 2, 2 GT; class 1: IoU 1.0 and 0 (other-class points) -> 1 of 2, 1 GT
    np.testing.assert_allclose(prec, [0.5, 0.5])
    np.testing.assert_allclose(rec, [0.5, 1.0])


def test_metric_end_to_end_and_errors():
    sem, inst = _scene([120, 150], [0, 1])
    masks = np.stack([inst == 0, inst == 1])
    sample = dict(gt_semantic=sem, gt_instance=inst, pred_instances=dict(masks=masks, labels=[0, 1], scores=[.9, .8]))
    metric = InstanceSegMetric(benchmark="s3dis", class_names=["a", "b", "c"])
    metric.process(None, [sample])
    out = metric.compute_metrics(metric.results)
    assert out["AP"] == pytest.approx(1.0) and out["AP@0.25"] == pytest.approx(1.0)
    assert out["mPrec"] == pytest.approx(1.0) and out["mRec"] == pytest.approx(1.0)
    assert np.isnan(out["AP/c"])
    with pytest.raises(KeyError, match="pred_instances"):
        metric.process(None, [dict(gt_semantic=sem, gt_instance=inst)])
    with pytest.raises(ValueError, match="benchmark"):
        InstanceSegMetric(benchmark="kitti")


def test_results_table_for_instance_metrics():
    from voxclip.engine import format_results_table

    metrics = {"AP": 0.5, "AP@0.5": 0.75, "AP@0.25": 1.0, "mPrec": 0.6, "mRec": 0.7,
               "AP/a": 0.5, "AP@0.5/a": 0.75, "AP@0.25/a": 1.0, "Prec/a": 0.6, "Rec/a": 0.7,
               "AP/b": float("nan"), "AP@0.5/b": float("nan"), "AP@0.25/b": float("nan"), "Prec/b": float("nan"),
               "Rec/b": float("nan")}
    lines = format_results_table(metrics, ["a", "b"]).splitlines()
    assert lines[0].split() == ["class", "AP", "AP@0.5", "AP@0.25", "Prec", "Rec"]
    assert lines[2].split() == ["a", "0.5000", "0.7500", "1.0000", "0.6000", "0.7000"]
    assert lines[3].split() == ["b", "-", "-", "-", "-", "-"]
    assert lines[-1] == "AP: 0.5000  AP@0.5: 0.7500  AP@0.25: 1.0000  mPrec: 0.6000  mRec: 0.7000"
