#!/usr/bin/env python
"""Convert a raw S3DIS download into processed rooms (docs/s3dis.md).

    python tools/prepare_s3dis.py RAW OUT [--areas 1 2 ...] [--workers N] [--overwrite]
        [--shard I/N] [--index-only] [--no-progress]

RAW is Stanford3dDataset_v1.2_Aligned_Version (Area_N/<room>/Annotations/<class>_<k>.txt), or a
folder holding it. OUT gets rooms/Area_<N>_<room>/{coord,color,segment,instance}.npy + meta.json,
splits/area_<N>.txt and index.json. Finished rooms are skipped unless --overwrite. With --shard I/N
each array-job task prepares every N-th room; every task (and --index-only) rebuilds the index
from all finished rooms.
Exit status: 0 all fine, 1 some rooms failed (listed at the end), 2 bad arguments or RAW.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a fresh clone

from data_prep.s3dis.index import rebuild_index  # noqa: E402
from data_prep.batch_cli import add_batch_args, checked_batch_args, report_problems  # noqa: E402
from data_prep.s3dis.prepare import prepare  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("raw_root", type=Path, help="Stanford3dDataset_v1.2_Aligned_Version (Area_N/...)")
    p.add_argument("out_root", type=Path, help="output root (rooms/, splits/, index.json)")
    p.add_argument("--areas", type=int, nargs="+", metavar="N", help="only these areas (default all)")
    add_batch_args(p, "room")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.index_only:
        index, problems = rebuild_index(args.out_root)
        print(f"index: {len(index['rooms'])} rooms, per area {index['areas']}")
        return report_problems(problems)
    try:
        shard = checked_batch_args(args)
        res = prepare(args.raw_root, args.out_root, areas=args.areas, workers=args.workers,
                      overwrite=args.overwrite, shard=shard, progress=not args.no_progress)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if res.repairs:
        print(f"note: repaired {len(res.repairs)} line(s) holding non-printable characters:")
        for rid, what in res.repairs:
            print(f"  {rid}: {what}")
    idx = res.index
    rate = res.num_points / res.seconds / 1e6 if res.seconds > 0 else 0.0
    print(f"prepared {len(res.prepared)} ({res.num_points} points, {rate:.2f} M points/s), skipped "
          f"{len(res.skipped)} (already finished), failed {len(res.failed)} in {res.seconds:.1f}s; "
          f"index: {len(idx['rooms'])} rooms, per area {idx['areas']} -> {args.out_root / 'index.json'}")
    return report_problems(res.failed, "FAILED rooms")


if __name__ == "__main__":
    sys.exit(main())
