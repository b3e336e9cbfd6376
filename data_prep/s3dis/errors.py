"""Exceptions raised by the S3DIS readers: one line naming the offending file (and line)."""
from __future__ import annotations

from pathlib import Path
from typing import Union


class S3DISError(Exception):
    """Base class: a raw S3DIS file or folder is missing or malformed."""

    def __init__(self, path: Union[str, Path], problem: str):
        self.path = str(path)
        self.problem = " ".join(str(problem).split())  # one line, whatever the cause said
        super().__init__(f"{self.path}: {self.problem}")


class MalformedLineError(S3DISError):
    """A point line is not `x y z r g b` (6 numbers, finite xyz, integer rgb in 0..255).

    `path` is `FILE:LINE` (1-based line number)."""

    def __init__(self, path: Union[str, Path], line: int, problem: str):
        self.file, self.line = str(path), int(line)
        super().__init__(f"{path}:{line}", problem)


class UnknownClassError(S3DISError):
    """An annotation file is not named `<class>_<k>.txt` with one of the 13 classes (or stairs)."""

