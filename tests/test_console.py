"""The demo's console view of a training log (voxclip/engine/console.py) on a hand-written mmengine log."""
import io

from voxclip.engine.console import filter_stream

T = "2026/12/01 10:00:00 - mmengine - "


def _log():
    lines = [T + "INFO - ", "------------------------------------------------------------", "System environment:",
             "    sys.platform: linux", T + "INFO - Config:", "max_epochs = 200",
             "train_cfg = dict(", "    max_epochs=2, type='EpochBasedTrainLoop', val_interval=1)",
             "model = dict(type='VoteNetDetector')",
             T + "WARNING - The prefix is not set in metric class IndoorDetMetric.",
             T + "INFO - loaded 12 'backbone.*' tensors of /x/epoch_1.pth into SRUNet"]
    for epoch in (1, 2):
        for i in range(1, 11):
            lines.append(T + f"INFO - Epoch(train) [{epoch}][{i:>2}/10]  lr: 1e-3  eta: 7:59:26  time: 0.3  "
                         f"loss: {10.0 / (epoch * i):.4f}  loss_vote: 1.0000  loss_zero: 0.0000")
        lines.append(T + "INFO - Exp name: demo_20261201_100000")
        lines.append(T + f"INFO - Epoch(val) [{epoch}][4/4]    AP@0.25/chair: 0.5000  mAP@0.25: 0.{epoch}000  "
                     f"mAP@0.5: 0.0500  data_time: 0.01  time: 0.2")
    lines += [T + "WARNING - disk almost full", "  detail line", "Traceback (most recent call last):",
              '  File "x.py", line 1', "ValueError: boom"]
    return [line + "\n" for line in lines]


def test_console_shows_progress_losses_headlines_and_errors():
    out, bar = io.StringIO(), io.StringIO()
    filter_stream(_log(), out, bar)
    text = out.getvalue().splitlines()
    assert not any("Exp name" in t or "sys.platform" in t or "max_epochs" in t or "prefix is not set" in t for t in text)
    losses = [t for t in text if t.startswith("epoch ")]
    assert 2 <= len(losses) <= 11 and losses[0] == "epoch 1/2: loss 10.000 (vote 1.000)"  # zero terms left out
    assert "Epoch(val) [1]  mAP@0.25: 0.1000  mAP@0.5: 0.0500" in text
    assert "Epoch(val) [2]  mAP@0.25: 0.2000  mAP@0.5: 0.0500" in text
    assert "loaded 12 'backbone.*' tensors of /x/epoch_1.pth into SRUNet" in text
    assert text[-5:] == ["warning: disk almost full", "  detail line", "Traceback (most recent call last):",
                         '  File "x.py", line 1', "ValueError: boom"]
    # one bar over the whole run: 2 epochs x 10 iterations, from the train_cfg of the config dump
    assert "20/20" in bar.getvalue() and "7:59:26" not in out.getvalue()


def test_expected_range_is_printed_beside_the_result_and_flags_a_figure_outside_it():
    from voxclip.engine import format_expected

    expected = dict(ranges={"mAP@0.25": (0.80, 0.88), "mAP@0.5": (0.30, 0.45)}, measured="3 seeds x {1, 2} threads")
    inside = format_expected({"mAP@0.25": 0.84, "mAP@0.5": 0.41}, expected)
    assert inside == "expected (3 seeds x {1, 2} threads): mAP@0.25 0.80-0.88  mAP@0.5 0.30-0.45"
    outside = format_expected({"det/mAP@0.25": 0.6871, "det/mAP@0.5": 0.31}, expected)
    assert outside.splitlines()[1].startswith("OUTSIDE the measured range: mAP@0.25 0.6871 ")
    assert "mAP@0.5 0.3100" not in outside


def test_demo_configs_record_their_own_measured_range_or_none():
    """A range printed beside a result must be one measured for that config: chains that inherit a
    demo config (pretraining, then fine-tuning) must not inherit its range."""
    from pathlib import Path

    from mmengine import Config

    demo = Path(__file__).resolve().parents[1] / "configs" / "demo"
    own = ("votenet_srunet_demo.py", "3detr_demo.py", "epcl_3detr_demo.py")
    inheriting = ("text4point_votenet_demo.py", "concept_align_3detr_demo.py", "mmpd_3detr_demo.py")
    for name in inheriting:
        assert Config.fromfile(str(demo / name)).get("expected_result") is None, name
    for name in own:
        expected = Config.fromfile(str(demo / name)).get("expected_result")
        assert set(expected["ranges"]) == {"mAP@0.25", "mAP@0.5"} and expected["measured"], name
        for low, high in expected["ranges"].values():
            assert 0.0 <= low < high <= 1.0, name
