"""Read a config for the tools: syntax errors name the file and line, typos in top-level keys warn.

mmengine parses configs without a file name (``SyntaxError: ... (<unknown>, line 1)``) and keeps any
top-level name, so ``trian_cfg = dict(...)`` is silently unused. Configs also hold helper variables
(``data_root``, ``num_points``), so an unknown key is only reported when it is close to a key the
Runner reads (a likely typo), or when ``--cfg-options`` adds a top-level key that exists nowhere.
"""
from __future__ import annotations

import ast
import difflib
import inspect
import os
import sys
from typing import Iterable, Optional

from mmengine.config import Config

__all__ = ["load_config", "runner_keys", "unknown_key_warnings"]

# read by voxclip (prepare_config, VoxclipRunner) or by mmengine outside Runner.__init__'s arguments
_EXTRA_KEYS = {"sparse_backend", "strict_load", "load_ignore_prefixes", "model_wrapper_cfg", "find_unused_parameters", "compile",
               "custom_imports", "runner_type", "gpu_ids", "work_dir", "_base_", "auto_scale_lr"}


def runner_keys() -> set:
    from mmengine.runner import Runner

    return {n for n in inspect.signature(Runner.__init__).parameters if n not in ("self", "cfg")} | _EXTRA_KEYS


def _check_syntax(path: str, seen: Optional[set] = None) -> None:
    """Compile ``path`` and its relative ``_base_`` files, raising a SyntaxError that names the file."""
    seen = set() if seen is None else seen
    path = os.path.abspath(path)
    if path in seen or not path.endswith(".py") or not os.path.isfile(path):
        return
    seen.add(path)
    with open(path, encoding="utf-8") as f:
        source = f.read()
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise ValueError(f"{path}:{exc.lineno}: syntax error in config: {exc.msg}") from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_base_" for t in node.targets):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:
                continue
            for base in [bases] if isinstance(bases, str) else list(bases):
                if isinstance(base, str) and "::" not in base:
                    _check_syntax(os.path.join(os.path.dirname(path), base), seen)


def unknown_key_warnings(cfg: Config, source: str, added: Iterable[str] = ()) -> list:
    """Warnings for top-level keys that look like typos of Runner keys, and for ``added`` keys
    (top-level keys ``--cfg-options`` introduced) that the Runner does not read."""
    known = runner_keys()
    out = []
    for key in cfg.keys():
        if key in known or key.startswith("_") or key in added:
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.8)
        if close:
            out.append(f"warning: {source}: unknown top-level key '{key}' (did you mean '{close[0]}'?); it is ignored")
    for key in added:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known | set(cfg.keys()) - set(added)), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            out.append(f"warning: --cfg-options: '{key}' is not a key of {source}{hint}; it is added but "
                       f"nothing may read it")
    return out


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` + ``--cfg-options`` with one-line errors and typo warnings on stderr."""
    if not os.path.isfile(path):
        raise SystemExit(f"error: {path}: config file not found")
    _check_syntax(path)
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as exc:  # a base outside the relative chain (package `::` bases)
        raise ValueError(f"{path}: syntax error in the config or one of its bases: {exc.msg} "
                         f"(line {exc.lineno})") from None
    added = [k.split(".", 1)[0] for k in (cfg_options or {}) if k.split(".", 1)[0] not in cfg.keys()]
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    for line in unknown_key_warnings(cfg, path, added):
        print(line, file=sys.stderr)
    return cfg
