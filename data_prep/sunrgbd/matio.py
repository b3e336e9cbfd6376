"""MATLAB file reading without MATLAB: v4-v7 via scipy.io, v7.3 (HDF5) via h5py, detected per file.

Only what SUN RGB-D needs: numeric arrays (``instance``), cell arrays of strings (``allsplit.mat``)
and one string field of a struct array (``SUNRGBDMeta3DBB_v2.mat``).
"""

from __future__ import annotations

import os

import numpy as np

from .errors import SunrgbdError


def is_v73(path: str | os.PathLike) -> bool:
    """True when the MAT file is version 7.3 (an HDF5 file with a 512-byte MATLAB header)."""
    import h5py

    try:
        return bool(h5py.is_hdf5(os.fspath(path)))
    except OSError:
        return False


def _loadmat(path: str, names: list[str]) -> dict:
    import scipy.io

    try:
        return scipy.io.loadmat(path, variable_names=names, squeeze_me=True,
                                struct_as_record=False)
    except Exception as exc:  # scipy raises many types on corrupt input
        raise SunrgbdError(path, f"cannot read MAT file ({type(exc).__name__}: {exc})") from None


def _require(data, name: str, path: str):
    if name not in data:
        raise SunrgbdError(path, f"MAT file has no variable '{name}'")
    return data[name]


def _existing(path: str | os.PathLike) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise SunrgbdError(path, "file not found")
    return path


def _read_v73(path: str, what: str, read):
    """``read(h5py.File)`` on a v7.3 MAT file; any failure but our own becomes 'cannot read <what>'."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return read(f)
    except SunrgbdError:
        raise
    except Exception as exc:
        raise SunrgbdError(path, f"cannot read {what} ({exc})") from None


def read_numeric(path: str | os.PathLike, name: str) -> np.ndarray:
    """A numeric MAT variable as float64 in MATLAB's (rows, cols) orientation."""
    path = _existing(path)
    if is_v73(path):
        arr = _read_v73(path, "v7.3 MAT file", lambda f: np.asarray(_require(f, name, path)[()]))
        arr = arr.T  # HDF5 stores MATLAB arrays transposed
    else:
        arr = np.asarray(_require(_loadmat(path, [name]), name, path))
    if arr.dtype.kind not in "fiub":
        raise SunrgbdError(path, f"variable '{name}' is not numeric (dtype {arr.dtype})")
    return arr.astype(np.float64, copy=False)


def _strings_scipy(obj) -> list[str]:
    """Flatten a loadmat cell array / char array into a list of strings."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "U":
            return [str(s) for s in obj.reshape(-1)]
        out: list[str] = []
        for item in obj.reshape(-1):
            out.extend(_strings_scipy(item))
        return out
    raise TypeError(f"expected strings, found {type(obj).__name__}")


def _h5_string(f, ref) -> str:
    chars = np.asarray(f[ref][()]).reshape(-1)
    return "".join(chr(int(c)) for c in chars)


def read_string_cells(path: str | os.PathLike, name: str) -> list[str]:
    """A cell array of strings (e.g. ``alltrain`` of ``allsplit.mat``) as a Python list."""
    path = _existing(path)
    if is_v73(path):
        def read(f):
            refs = np.asarray(_require(f, name, path)[()]).reshape(-1)
            return [_h5_string(f, r) for r in refs]

        return _read_v73(path, f"cell array '{name}'", read)
    data = _require(_loadmat(path, [name]), name, path)
    try:
        return _strings_scipy(data)
    except TypeError as exc:
        raise SunrgbdError(path, f"variable '{name}' is not a cell array of strings ({exc})") from None


def read_struct_strings(path: str | os.PathLike, name: str, field: str) -> list[str]:
    """One string field of every element of a struct array, in MATLAB order."""
    path = _existing(path)
    if is_v73(path):
        def read(f):
            group = _require(f, name, path)
            if field not in group:
                raise SunrgbdError(path, f"struct '{name}' has no field '{field}'")
            refs = np.asarray(group[field][()]).reshape(-1)
            return [_h5_string(f, r) for r in refs]

        return _read_v73(path, f"struct '{name}'", read)
    data = np.atleast_1d(_require(_loadmat(path, [name]), name, path))
    out = []
    for item in data.reshape(-1):
        value = getattr(item, field, None)
        if value is None:
            raise SunrgbdError(path, f"struct '{name}' has no field '{field}'")
        out.append(str(value) if not isinstance(value, np.ndarray) else "".join(_strings_scipy(value)))
    return out
