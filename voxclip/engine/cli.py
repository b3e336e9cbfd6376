"""Entry-point wrapper for the tools: bad input ends in one clear line and a non-zero exit.

Missing files, unreadable data and invalid settings surface as OSError / ValueError with messages
that name the file and the problem; a user needs that line, not a traceback through mmengine.
``VOXCLIP_DEBUG=1`` re-raises for the full traceback. Tests call the tools' ``main`` directly and
still see the exceptions.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

from mmengine.config import DictAction


def run_cli(main: Callable[[], object]) -> None:
    try:
        main()
    except (OSError, ValueError) as exc:
        if os.environ.get("VOXCLIP_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {first}  (VOXCLIP_DEBUG=1 for the traceback)", file=sys.stderr)
        sys.exit(1)


class CfgOptionsAction(DictAction):
    """mmengine's DictAction, with a usage error (not 'not enough values to unpack') for an item
    without '='."""

    def __call__(self, parser, namespace, values, option_string=None):
        for item in values if isinstance(values, (list, tuple)) else [values]:
            if "=" not in item or item.startswith("="):
                raise argparse.ArgumentError(self, f"'{item}' is not key=value (e.g. train_cfg.max_epochs=2)")
        super().__call__(parser, namespace, values, option_string)


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def add_checkpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """``--strict`` and ``--unsafe-load``, shared by tools/train.py and tools/test.py."""
    parser.add_argument("--strict", type=_bool, default=None, metavar="true|false",
                        help="checkpoint keys and shapes must fit the model exactly (default true; the config's "
                             "strict_load); false loads the matching part and logs the rest")
    parser.add_argument("--unsafe-load", action="store_true",
                        help="unpickle checkpoints fully (can run code): only for a file you trust")


def apply_checkpoint_arguments(cfg, args) -> None:
    from .checkpoint_io import set_unsafe_load

    if getattr(args, "strict", None) is not None:
        cfg.strict_load = args.strict
    set_unsafe_load(bool(getattr(args, "unsafe_load", False)))
