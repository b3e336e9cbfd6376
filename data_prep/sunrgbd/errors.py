"""Errors raised by the SUN RGB-D readers: always one line naming the file and the problem."""

from __future__ import annotations

import os


class SunrgbdError(ValueError):
    """A SUN RGB-D input file is missing, unreadable or malformed.

    ``str(err)`` is ``"<path>: <problem>"`` so batch tools can print it as a one-line reason.
    """

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
