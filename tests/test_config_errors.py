"""Config and argument mistakes end in a line that says what and where (docs/reliability.md)."""
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import train as train_tool  # noqa: E402
from voxclip.engine.config_load import load_config  # noqa: E402


def test_syntax_error_names_the_file_and_line(tmp_path):
    (tmp_path / "base.py").write_text("a = 1\nb = dict(\nc = 2\n")
    child = tmp_path / "child.py"
    child.write_text("_base_ = ['base.py']\nd = 3\n")
    with pytest.raises(ValueError) as excinfo:
        load_config(str(child))
    assert str(excinfo.value).startswith(f"{tmp_path / 'base.py'}:2: syntax error in config")


def test_typo_in_top_level_key_warns_with_closest(tmp_path, capsys):
    cfg_file = tmp_path / "typo.py"
    cfg_file.write_text("data_root = 'x'\nnum_points = 5\ntrian_cfg = dict(max_epochs=2)\n")
    cfg = load_config(str(cfg_file), {"defualt_hooks": {}, "train_cfg.max_epochs": 3})
    err = capsys.readouterr().err.splitlines()
    assert f"warning: {cfg_file}: unknown top-level key 'trian_cfg' (did you mean 'train_cfg'?); it is ignored" in err
    assert any(line.startswith("warning: --cfg-options: 'defualt_hooks'") and "'default_hooks'" in line
               for line in err), err
    assert not any("data_root" in line or "num_points" in line for line in err)  # helper variables are fine
    assert cfg.train_cfg.max_epochs == 3


def test_every_shipped_config_loads_without_warnings(capsys):
    for path in sorted((REPO / "configs").rglob("*.py")):
        if "_base_" not in path.parts:
            load_config(str(path))
    assert capsys.readouterr().err == ""


def test_cfg_options_without_equals_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as excinfo:
        train_tool.parse_args(["cfg.py", "--cfg-options", "train_cfg.max_epochs"])
    assert excinfo.value.code == 2
    assert "'train_cfg.max_epochs' is not key=value" in capsys.readouterr().err


def test_split_list_with_bom_and_invisible_characters(tmp_path):
    from voxclip.utils.idlist import read_id_list

    path = tmp_path / "train.txt"
    path.write_bytes("\ufeffscene0000_00\r\nscene0001_00\n\n".encode("utf-8"))
    assert read_id_list(path) == ["scene0000_00", "scene0001_00"]
    path.write_bytes("scene0000_00\nscene0001\u200b_00\n".encode("utf-8"))
    with pytest.raises(ValueError, match=r"line 2: id 'scene0001\\u200b_00' contains invisible"):
        read_id_list(path)


def test_missing_random_clip_names_the_tool(tmp_path):
    from mmengine.config import Config

    from voxclip.models.clip.loader import load_open_clip

    base = Config.fromfile(str(REPO / "configs/_base_/models/tiny_random_clip.py"))
    missing = tmp_path / "tiny_rn_clip.pt"
    with pytest.raises(FileNotFoundError) as excinfo:
        load_open_clip(str(missing), model_cfg=base.tiny_clip_cfg)
    text = str(excinfo.value)
    assert f"python tools/make_random_clip.py {missing} --model-cfg tiny" in text and "download" not in text
