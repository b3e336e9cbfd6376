"""tools/plot_logs.py on a hand-written mmengine work dir: iterations of validation points, resumed
runs, test-only runs, and the PNG it writes."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import plot_logs  # noqa: E402

from voxclip.visualization.training_curves import figure_training_curves, read_scalars  # noqa: E402


def _run(root, stamp, rows):
    d = root / stamp / "vis_data"
    d.mkdir(parents=True)
    (d / "scalars.json").write_text("".join(json.dumps(r) + "\n" for r in rows))


def _train(it, epoch, loss):
    return {"lr": 0.01, "loss": loss, "loss_a": loss * 0.75, "loss_b": loss * 0.25, "loss_zero": 0.0,
            "time": 0.3, "epoch": epoch, "iter": it, "step": it}


def test_curves_from_epoch_runs_resume_and_test(tmp_path):
    # 3 iterations per epoch; validation after epochs 1 and 2 (mmengine logs step = epoch); the run is
    # resumed from epoch 2's checkpoint, repeats nothing and validates after epoch 3; then a test run.
    _run(tmp_path, "20260101_000000", [_train(i, (i - 1) // 3 + 1, 10.0 / i) for i in range(1, 7)]
         + [{"mAP@0.25": 0.1, "AP@0.25/chair": 0.2, "time": 1.0, "step": 1},
            {"mAP@0.25": 0.3, "AP@0.25/chair": 0.4, "time": 1.0, "step": 2}])
    _run(tmp_path, "20260101_010000", [_train(i, 3, 10.0 / i) for i in range(7, 10)]
         + [{"mAP@0.25": 0.5, "time": 1.0, "step": 3}])
    test_dir = tmp_path / "20260101_020000"  # tools/test.py: metrics in <timestamp>/<timestamp>.json
    (test_dir / "vis_data").mkdir(parents=True)
    (test_dir / "20260101_020000.json").write_text(json.dumps({"mAP@0.25": 0.45, "AP@0.25/chair": 0.5}) + "\n")
    train, val, test = read_scalars(str(tmp_path))
    assert [r["iteration"] for r in train] == list(range(1, 10))
    assert [(r["iteration"], r["mAP@0.25"]) for r in val] == [(3, 0.1), (6, 0.3), (9, 0.5)]
    assert [(r["iteration"], r["mAP@0.25"]) for r in test] == [(9, 0.45)]
    fig = figure_training_curves(str(tmp_path))
    loss_ax, metric_ax = fig.axes
    assert sorted(line.get_label() for line in loss_ax.get_lines()) == ["loss", "loss_a", "loss_b"]  # zero term left out
    labels = [line.get_label() for line in metric_ax.get_lines()]
    assert labels == ["mAP@0.25", "mAP@0.25 (test)"]  # per-class keys left out
    assert np.allclose(metric_ax.get_lines()[0].get_xydata(), [[3, 0.1], [6, 0.3], [9, 0.5]])
    from matplotlib.image import imread

    path = plot_logs.main([str(tmp_path)])
    assert path == str(tmp_path / "training_curves.png")
    img = imread(path)
    assert img.shape[:2] == (460, 1200) and (img[..., :3] < 0.5).any()


def test_missing_or_broken_logs_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no \\*/vis_data/scalars.json"):
        read_scalars(str(tmp_path))
    d = tmp_path / "r" / "vis_data"
    d.mkdir(parents=True)
    (d / "scalars.json").write_text('{"loss": 1, "step": 1}\n{broken\n')
    with pytest.raises(ValueError, match="scalars.json: line 2 is not JSON"):
        read_scalars(str(tmp_path))
