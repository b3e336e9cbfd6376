"""tools/run_demo.sh, the job behind `make demo` and `make demo-text4point`, end to end on 4 generated
scenes with a one-epoch schedule: every step runs, the last line is the mAP line, and the Text4Point
chain fine-tunes from the checkpoint its own pretraining step wrote."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAP_LINE = re.compile(r"^mAP@0\.25: (\d\.\d{4})  mAP@0\.5: (\d\.\d{4})$")
NO_WORKERS = " ".join(f"{loader}.num_workers=0 {loader}.persistent_workers=False"
                      for loader in ("train_dataloader", "val_dataloader", "test_dataloader"))


def _run_demo(tmp_path: Path, cfg: str, *pretrain: str, **env) -> tuple[str, str]:
    """(stdout, stderr) of the script."""
    full_env = dict(os.environ, DEMO_SCENES="4", DEMO_TRAIN_OPTIONS=f"train_cfg.max_epochs=1 {NO_WORKERS}", **env)
    args = ["bash", "tools/run_demo.sh", sys.executable, str(tmp_path / "raw"), str(tmp_path / "out"), cfg,
            str(tmp_path / "work"), *pretrain]
    res = subprocess.run(args, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout, res.stderr


def _check_table(out: str, tmp_path: Path, num_classes: int = 18):
    lines = out.strip().splitlines()
    # the mAP line ends the output, or is followed by the config's measured range (expected_result)
    tail = next(i for i in range(len(lines) - 1, -1, -1) if MAP_LINE.match(lines[i]))
    assert all(line.startswith(("expected (", "OUTSIDE the measured range")) for line in lines[tail + 1:]), lines[-5:]
    m = MAP_LINE.match(lines[tail])
    assert m, lines[-5:]
    assert all(0.0 <= float(v) <= 1.0 for v in m.groups())
    header = max(i for i, line in enumerate(lines) if re.match(r"^class +AP@0\.25 +AP@0\.5$", line))
    rows = [line for line in lines[header + 2:tail] if not line.startswith("---")]
    assert len(rows) == num_classes, rows
    assert (tmp_path / "work" / "eval.log").is_file()
    assert list((tmp_path / "work" / "eval").rglob("*.png")), "PR curves of --show-dir"
    # the pictures and curves the end of the demo points to
    assert f"[demo] training curves: {tmp_path / 'work'}/training_curves.png" in out
    assert (tmp_path / "work" / "training_curves.png").stat().st_size > 10000
    assert (tmp_path / "work" / "eval" / "pr_sheet.png").is_file()
    assert len(list((tmp_path / "work" / "eval").glob("*_bev.png"))) == len(list((tmp_path / "work" / "eval").glob("*.ply"))) > 0


def test_demo_script_runs_the_main_job(tmp_path):
    # an earlier run's trees, with a scene this run does not write: it must not reach the new index
    stale = tmp_path / "out" / "scans" / "scene0999_00"
    stale.mkdir(parents=True)
    (stale / "meta.json").write_text('{"split": "val"}')
    (tmp_path / "out" / "index.json").write_text("{}")
    out, _ = _run_demo(tmp_path, "configs/demo/votenet_srunet_demo.py")
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert sorted(index["scenes"]) == [f"scene{i:04d}_00" for i in range(5)]  # 4 scenes + 1 test scene
    assert not stale.exists()
    assert [s for s in re.findall(r"=== \[demo \d+s\] (\d)/(\d)", out)] == [(str(i), "4") for i in range(1, 5)]
    _check_table(out, tmp_path)
    # the measured range is printed beside the result; a 1-epoch run falls outside it and says so
    assert re.search(r"^expected \(seeds 0-2 x 1-2 threads.*\): mAP@0\.25 [01]\.\d\d-[01]\.\d\d  mAP@0\.5 ", out, re.M)
    assert "OUTSIDE the measured range: mAP@0.25" in out


def test_demo_script_runs_the_text4point_chain(tmp_path):
    pre = tmp_path / "pretrain"
    out, err = _run_demo(tmp_path, "configs/demo/text4point_votenet_demo.py",
                         "configs/demo/text4point_pretrain_demo.py",
                         DEMO_CLIP=str(tmp_path / "clip.pt"), DEMO_PRETRAIN_WORK=str(pre),
                         DEMO_PRETRAIN_OPTIONS="train_cfg.max_epochs=1 train_dataloader.num_workers=0 "
                                               "train_dataloader.persistent_workers=False model.max_pairs=256")
    assert [s for s in re.findall(r"=== \[demo \d+s\] (\d)/(\d)", out)] == [(str(i), "6") for i in range(1, 7)]
    assert (tmp_path / "clip.pt").is_file() and (pre / "epoch_1.pth").is_file()
    # the fine-tuning backbone came from this run's pretraining checkpoint, not the config's default path
    assert re.search(rf"loaded \d+ 'backbone\.\*' tensors of {re.escape(str(pre))}/epoch_1\.pth", out + err)
    _check_table(out, tmp_path)


def test_demo_script_refuses_a_directory_it_did_not_write(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "my_scans.txt").write_text("keep me")
    args = ["bash", "tools/run_demo.sh", sys.executable, str(raw), str(tmp_path / "out"),
            "configs/demo/votenet_srunet_demo.py", str(tmp_path / "work")]
    res = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode != 0
    assert f"[demo] error: {raw} exists and is not a demo tree" in res.stderr
    assert (raw / "my_scans.txt").read_text() == "keep me" and not (tmp_path / "out").exists()
