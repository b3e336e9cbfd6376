"""The label table the generator writes as ``scannetv2-labels.combined.tsv``.

Rows follow the real file's columns. Only the raw categories the generator uses (plus a few
common extras) are listed; ``raw_category`` -> ``nyu40id`` is what readers rely on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

from voxclip.utils.atomic import PathLike, atomic_write_text

TSV_NAME = "scannetv2-labels.combined.tsv"
TSV_COLUMNS = (
    "id", "raw_category", "category", "count", "nyu40id", "eigen13id", "nyuClass", "nyu40class",
    "eigen13class", "ModelNet40", "ModelNet10", "ShapeNetCore55", "synsetoffset", "wnsynsetid",
    "wnsynsetkey", "mpcat40", "mpcat40index",
)

# nyu40 id -> (nyu40class, eigen13id, eigen13class, mpcat40, mpcat40index)
NYU40 = {
    1: ("wall", 12, "Wall", "wall", 1),
    2: ("floor", 5, "Floor", "floor", 2),
    3: ("cabinet", 6, "Furniture", "cabinet", 7),
    4: ("bed", 1, "Bed", "bed", 11),
    5: ("chair", 4, "Chair", "chair", 3),
    6: ("sofa", 9, "Sofa", "sofa", 10),
    7: ("table", 10, "Table", "table", 5),
    8: ("door", 12, "Wall", "door", 4),
    9: ("window", 13, "Window", "window", 9),
    10: ("bookshelf", 6, "Furniture", "shelving", 31),
    11: ("picture", 8, "Picture", "picture", 6),
    12: ("counter", 6, "Furniture", "counter", 26),
    14: ("desk", 10, "Table", "table", 5),
    16: ("curtain", 13, "Window", "curtain", 12),
    18: ("pillow", 7, "Objects", "cushion", 8),
    22: ("ceiling", 3, "Ceiling", "ceiling", 17),
    23: ("books", 2, "Books", "objects", 39),
    24: ("refridgerator", 6, "Furniture", "appliances", 37),
    28: ("shower curtain", 7, "Objects", "curtain", 12),
    29: ("box", 7, "Objects", "objects", 39),
    33: ("toilet", 7, "Objects", "toilet", 18),
    34: ("sink", 7, "Objects", "sink", 15),
    35: ("lamp", 7, "Objects", "lighting", 28),
    36: ("bathtub", 7, "Objects", "bathtub", 25),
    37: ("bag", 7, "Objects", "objects", 39),
    39: ("otherfurniture", 6, "Furniture", "furniture", 36),
    40: ("otherprop", 7, "Objects", "objects", 39),
}

# raw_category -> (category, count, nyu40id, nyuClass, ModelNet40, ShapeNetCore55, synsetoffset,
#                  wnsynsetid, wnsynsetkey)
RAW_CATEGORIES: Dict[str, Tuple] = {
    "wall": ("wall", 8277, 1, "wall", "", "", "", "n04546855", "wall.n.01"),
    "chair": ("chair", 4646, 5, "chair", "chair", "chair", "03001627", "n03001627", "chair.n.01"),
    "floor": ("floor", 1553, 2, "floor", "", "", "", "n03365592", "floor.n.01"),
    "door": ("door", 1483, 8, "door", "door", "", "", "n03221720", "door.n.01"),
    "table": ("table", 1170, 7, "table", "table", "table", "04379243", "n04379243", "table.n.02"),
    "window": ("window", 835, 9, "window", "", "", "", "n04587648", "window.n.01"),
    "picture": ("picture", 762, 11, "picture", "", "", "", "n03931044", "picture.n.01"),
    "cabinet": ("cabinet", 731, 3, "cabinet", "", "cabinet", "02933112", "n02933112",
                "cabinet.n.01"),
    "office chair": ("chair", 595, 5, "chair", "chair", "chair", "03001627", "n04373704",
                     "swivel_chair.n.01"),
    "box": ("box", 540, 29, "box", "", "", "", "n02883344", "box.n.01"),
    "desk": ("desk", 680, 14, "desk", "desk", "table", "04379243", "n03179701", "desk.n.01"),
    "bed": ("bed", 370, 4, "bed", "bed", "bed", "02818832", "n02818832", "bed.n.01"),
    "trash can": ("trash can", 1090, 39, "garbage bin", "", "trash bin", "02747177",
                  "n02747177", "ashcan.n.01"),
    "kitchen cabinet": ("kitchen cabinet", 310, 3, "cabinet", "", "cabinet", "02933112",
                        "n02933112", "cabinet.n.01"),
    "couch": ("couch", 502, 6, "sofa", "sofa", "sofa", "04256520", "n04256520", "sofa.n.01"),
    "bookshelf": ("bookshelf", 360, 10, "bookshelf", "bookshelf", "bookshelf", "02871439",
                  "n02871439", "bookshelf.n.01"),
    "toilet": ("toilet", 256, 33, "toilet", "toilet", "", "", "n04446276", "toilet.n.01"),
    "refrigerator": ("refrigerator", 154, 24, "refridgerator", "", "", "", "n04070727",
                     "refrigerator.n.01"),
    "bathtub": ("bathtub", 144, 36, "bathtub", "bathtub", "bathtub", "02808440", "n02808440",
                "bathtub.n.01"),
    "coffee table": ("coffee table", 258, 7, "table", "table", "table", "04379243", "n03063968",
                     "coffee_table.n.01"),
    "lamp": ("lamp", 419, 35, "lamp", "lamp", "lamp", "03636649", "n03636649", "lamp.n.02"),
    "armchair": ("armchair", 281, 5, "chair", "chair", "chair", "03001627", "n02738535",
                 "armchair.n.01"),
    "file cabinet": ("file cabinet", 217, 3, "cabinet", "", "cabinet", "02933112", "n03337140",
                     "file.n.03"),
    "recycling bin": ("recycling bin", 225, 39, "garbage bin", "", "trash bin", "02747177",
                      "n02747177", "ashcan.n.01"),
    "sofa": ("sofa", 114, 6, "sofa", "sofa", "sofa", "04256520", "n04256520", "sofa.n.01"),
    "bookshelves": ("bookshelf", 35, 10, "bookshelf", "bookshelf", "bookshelf", "02871439",
                    "n02871439", "bookshelf.n.01"),
    "mini fridge": ("mini fridge", 87, 24, "refridgerator", "", "", "", "n03273913",
                    "electric_refrigerator.n.01"),
    "backpack": ("backpack", 479, 40, "backpack", "", "", "", "n02769748", "backpack.n.01"),
    "pillow": ("pillow", 937, 18, "pillow", "", "pillow", "", "n03938244", "pillow.n.01"),
    "ceiling": ("ceiling", 806, 22, "ceiling", "", "", "", "n02990373", "ceiling.n.01"),
    "books": ("book", 1678, 23, "book", "", "", "", "n02870526", "book.n.11"),
    "sink": ("sink", 488, 34, "sink", "sink", "", "", "n04223580", "sink.n.01"),
    "counter": ("counter", 104, 12, "counter", "", "", "", "n03116530", "counter.n.01"),
    "curtain": ("curtain", 356, 16, "curtain", "", "", "", "n03151077", "curtain.n.01"),
    "shower curtain": ("shower curtain", 128, 28, "shower curtain", "", "", "", "n04209239",
                       "shower_curtain.n.01"),
    "bag": ("bag", 252, 37, "bag", "", "bag", "02773838", "n02773838", "bag.n.06"),
}


def raw_to_nyu40() -> Dict[str, int]:
    return {raw: row[2] for raw, row in RAW_CATEGORIES.items()}


def tsv_rows() -> List[List[str]]:
    rows = []
    for i, (raw, r) in enumerate(RAW_CATEGORIES.items(), start=1):
        category, count, nyu40, nyu_class, mn40, snc55, offset, wnid, wnkey = r
        nyu40class, e13, e13class, mp, mpi = NYU40[nyu40]
        mn10 = mn40 if mn40 in ("bathtub", "bed", "chair", "desk", "dresser", "monitor",
                                "night_stand", "sofa", "table", "toilet") else ""
        rows.append([str(i), raw, category, str(count), str(nyu40), str(e13), nyu_class,
                     nyu40class, e13class, mn40, mn10, snc55, offset, wnid, wnkey, mp, str(mpi)])
    return rows


def write_labels_tsv(path: PathLike) -> Path:
    """Write the label table with CRLF line endings (as the official file). Returns the path."""
    lines = ["\t".join(TSV_COLUMNS)] + ["\t".join(r) for r in tsv_rows()]
    atomic_write_text(path, "\n".join(lines) + "\n", newline="\r\n")
    return Path(path)
