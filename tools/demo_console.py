#!/usr/bin/env python
"""Readable view of a training log read from stdin (tools/run_demo.sh pipes tools/train.py into it
and keeps the full log in the work dir): one overall progress bar, losses, validation headlines,
warnings and errors. See voxclip/engine/console.py.

    python tools/train.py CONFIG 2>&1 | tee WORK/train.log | python tools/demo_console.py
"""
from __future__ import annotations

import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from voxclip.engine.console import filter_stream  # noqa: E402

if __name__ == "__main__":
    filter_stream(sys.stdin)
