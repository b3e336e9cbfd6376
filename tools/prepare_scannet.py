#!/usr/bin/env python
"""Convert a raw ScanNet v2 download into processed scenes (docs/architecture.md).

    python tools/prepare_scannet.py RAW_ROOT OUT_ROOT [--scenes ID ...] [--split train|val|test]
        [--workers N] [--labels-tsv PATH] [--overwrite] [--shard I/N] [--index-only]

RAW_ROOT is the official layout: scans/<id>/, scans_test/<id>/, scannetv2-labels.combined.tsv and
optionally the benchmark split lists scannetv2_{train,val,test}.txt. Finished scenes are skipped
unless --overwrite. With --shard I/N (0 <= I < N) each array-job task prepares every N-th scene;
the index is rebuilt from all finished scenes by every task (and by --index-only).
Exit status: 0 all fine, 1 some scenes failed (listed at the end), 2 bad arguments or label tsv.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a fresh clone

from data_prep.scannet.errors import ScanNetError  # noqa: E402
from data_prep.scannet.index import rebuild_index  # noqa: E402
from data_prep.scannet.layout import SPLITS  # noqa: E402
from data_prep.batch_cli import add_batch_args, checked_batch_args, report_problems  # noqa: E402
from data_prep.scannet.prepare import prepare  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("raw_root", type=Path, help="raw ScanNet v2 root (scans/, scans_test/, tsv)")
    p.add_argument("out_root", type=Path, help="output root (scans/<id>/, splits/, index.json)")
    p.add_argument("--scenes", nargs="+", metavar="ID", help="only these scene ids")
    p.add_argument("--split", choices=SPLITS, help="only scenes of this split")
    p.add_argument("--labels-tsv", type=Path,
                   help="label tsv (default RAW_ROOT/scannetv2-labels.combined.tsv)")
    add_batch_args(p, "scene")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.index_only:
        index, problems = rebuild_index(args.out_root)
        print(f"index: {len(index['scenes'])} scenes {index['splits']}")
        return report_problems(problems)
    try:
        shard = checked_batch_args(args)
        res = prepare(args.raw_root, args.out_root, scenes=args.scenes, split=args.split,
                      workers=args.workers, labels_tsv=args.labels_tsv,
                      overwrite=args.overwrite, shard=shard, progress=not args.no_progress)
    except (ValueError, OSError, ScanNetError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    idx = res.index
    for line in res.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(f"prepared {len(res.prepared)}, skipped {len(res.skipped)} (already finished), "
          f"failed {len(res.failed)} in {res.seconds:.1f}s; index: {len(idx['scenes'])} scenes "
          f"{idx['splits']} -> {args.out_root / 'index.json'}")
    return report_problems(res.failed, "FAILED scenes")


if __name__ == "__main__":
    sys.exit(main())
