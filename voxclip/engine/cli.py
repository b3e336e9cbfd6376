"""Entry-point wrapper for the tools: bad input ends in one clear line and a non-zero exit.

Missing files, unreadable data and invalid settings surface as OSError / ValueError with messages
that name the file and the problem; a user needs that line, not a traceback through mmengine.
``VOXCLIP_DEBUG=1`` re-raises for the full traceback. Tests call the tools' ``main`` directly and
still see the exceptions.
"""
from __future__ import annotations

import os
import sys
from typing import Callable


def run_cli(main: Callable[[], object]) -> None:
    try:
        main()
    except (OSError, ValueError) as exc:
        if os.environ.get("VOXCLIP_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {first}  (VOXCLIP_DEBUG=1 for the traceback)", file=sys.stderr)
        sys.exit(1)
