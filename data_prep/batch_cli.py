"""Command-line pieces shared by the batch preparation tools (tools/prepare_scannet.py,
tools/prepare_s3dis.py): the batch options, their checks, and the failure report."""
from __future__ import annotations

import argparse
import sys
from typing import Iterable, Tuple

from data_prep.batch import default_workers, parse_shard


def add_batch_args(p: argparse.ArgumentParser, unit: str) -> None:
    """--workers, --overwrite, --shard, --index-only, --no-progress; ``unit`` is 'scene', 'room', ..."""
    p.add_argument("--workers", type=int, default=default_workers(),
                   help="parallel processes (default: usable cores)")
    p.add_argument("--overwrite", action="store_true", help=f"redo finished {unit}s")
    p.add_argument("--shard", default="0/1", help=f"I/N: prepare every N-th {unit} from the I-th")
    p.add_argument("--index-only", action="store_true",
                   help=f"only rebuild index.json and splits/ from finished {unit}s")
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar")


def checked_batch_args(args: argparse.Namespace) -> Tuple[int, int]:
    """The parsed shard (I, N); ValueError for a bad --shard or --workers."""
    shard = parse_shard(args.shard)
    if args.workers < 1:
        raise ValueError(f"--workers {args.workers}: need >= 1")
    return shard


def report_problems(problems: Iterable[Tuple[str, str]], title: str | None = None) -> int:
    """Every (id, reason) on stderr, under ``title`` when given; 1 when there were any, else 0."""
    problems = list(problems)
    if problems and title:
        print(f"{title} ({len(problems)}):", file=sys.stderr)
    for item, reason in problems:
        print(f"  {item}: {reason}", file=sys.stderr)
    return 1 if problems else 0
