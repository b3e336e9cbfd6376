"""tools/run_s4token_demo.sh, the job behind `make demo-s4token`, end to end on 4 generated scenes with
a one-epoch pre-training: every step runs, the table ends in the mIoU line, the evaluation used the
checkpoint this run's pre-training wrote, and the query picture exists. (The only S4Token test that
runs the whole chain.)"""
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_s4token_demo_chain(tmp_path):
    env = dict(os.environ, DEMO_SCENES="4", DEMO_CLIP=str(tmp_path / "clip.pt"),
               DEMO_PRETRAIN_OPTIONS="train_cfg.max_epochs=1 train_dataloader.num_workers=0 "
                                     "train_dataloader.persistent_workers=False",
               DEMO_TEST_OPTIONS="test_dataloader.num_workers=0 test_dataloader.persistent_workers=False")
    work = tmp_path / "work"
    res = subprocess.run(["bash", "tools/run_s4token_demo.sh", sys.executable, str(tmp_path / "raw"),
                          str(tmp_path / "out"), str(work)], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = res.stdout
    assert re.findall(r"=== \[s4token demo \d+s\] (\d)/6", out) == [str(i) for i in range(1, 7)]
    lines = out.strip().splitlines()
    m = re.match(r"^mIoU: (\d\.\d{4})  mAcc: (\d\.\d{4})  aAcc: (\d\.\d{4})$", lines[-1])
    assert m and all(0.0 <= float(v) <= 1.0 for v in m.groups()), lines[-3:]
    header = max(i for i, line in enumerate(lines) if re.match(r"^class +IoU$", line))
    assert len([x for x in lines[header + 2:-1] if not x.startswith("---")]) == 20
    log = (work / "openvocab.log").read_text()
    assert f"Load checkpoint from {work}/pretrain/epoch_1.pth" in log
    assert (tmp_path / "out" / "scans").is_dir() and list((tmp_path / "out" / "scans").glob("*/superpoint.npy"))
    assert (work / "query" / "a_chair.png").stat().st_size > 0 and (work / "query" / "a_chair.ply").is_file()
