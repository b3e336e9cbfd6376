"""Read a list of ids (split lists, scene lists): one per line, any line ending, UTF-8 with or without
a byte-order mark. An id holding an invisible or space character is an error that shows it (repr),
instead of an "unknown id" message in which the id looks right. Standard library only."""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, Union


def read_id_list(path: Union[str, os.PathLike]) -> List[str]:
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    ids = []
    for n, line in enumerate(text.splitlines(), 1):
        item = line.strip()
        if not item:
            continue
        bad = sorted({c for c in item if c.isspace() or not c.isprintable()})
        if bad:
            raise ValueError(f"{path}: line {n}: id {item!r} contains invisible or space characters "
                             f"({', '.join(repr(c) for c in bad)})")
        ids.append(item)
    return ids
