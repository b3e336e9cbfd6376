"""`make demo-objects` end to end on a few objects and one epoch (tools/run_objects_demo.sh): synthetic
ModelNet40-format objects -> prepare -> train -> evaluate without / with voting -> accuracy table."""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_objects_demo_chain(tmp_path):
    env = dict(os.environ, DEMO_OBJ_TRAIN="3", DEMO_OBJ_TEST="2", PYTHONPATH=str(REPO),
               DEMO_TRAIN_OPTIONS="train_cfg.max_epochs=1 train_cfg.val_interval=1 train_dataloader.batch_size=8")
    work = tmp_path / "work"
    res = subprocess.run(["bash", "tools/run_objects_demo.sh", sys.executable, str(tmp_path / "raw"),
                          str(tmp_path / "prep"), "configs/demo/pointmae_cls_demo.py", str(work)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    lines = res.stdout.strip().splitlines()
    assert lines[-3].split() == ["protocol", "OA", "mAcc"]
    assert "30 train / 20 test, 10 classes" in lines[-4]
    for line, name in zip(lines[-2:], ("plain", "vote")):
        doc = json.loads((work / f"test_{name}.json").read_text())
        samples = doc["samples"]
        assert len(samples) == 20
        oa = 100.0 * sum(s["pred"] == s["gt"] for s in samples) / len(samples)  # recomputed from predictions
        assert abs(float(line.split()[-2]) - oa) < 0.01 and abs(doc["results"]["OA"] - oa) < 1e-9
