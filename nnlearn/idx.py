"""The IDX file format of MNIST and Fashion-MNIST: a 4-byte magic number (0, 0, data type, number
of dimensions), one big-endian uint32 per dimension, then the values, optionally gzipped."""
import gzip
import os
import struct
from pathlib import Path

import numpy as np

from .validate import check_array, check_type

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(t).newbyteorder("="): code for code, t in _IDX_TYPES.items()}


def _path(name, path):
    return Path(check_type(name, path, (str, os.PathLike), "a file path (str or pathlib.Path)"))


def read_bytes(path):
    """The content of a file, decompressed when its name ends in .gz."""
    path = _path("path", path)
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
        return f.read()


def parse_idx(raw, source="IDX data"):
    """The bytes of an IDX file -> a numpy array of its stated shape (native byte order)."""
    check_type("raw", raw, (bytes, bytearray), "the bytes of an IDX file")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{source}: not an IDX file (bad magic number {bytes(raw[:4])!r})")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"{source}: unknown IDX data type 0x{code:02x}")
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{source}: the header is cut short ({len(raw)} bytes for {ndim} dimensions)")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[code])
    n_bytes = len(raw) - 4 - 4 * ndim
    if n_bytes != int(np.prod(shape)) * dtype.itemsize:
        raise ValueError(f"{source}: header says shape {shape} but the file holds {n_bytes / dtype.itemsize:g} values")
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path):
    """Read an IDX file (optionally gzipped) into a numpy array of its stated shape."""
    return parse_idx(read_bytes(path), path)


def write_idx(path, array):
    """Write a uint8/int8/int16/int32/float32/float64 array as an IDX file (gzipped if path ends in .gz)."""
    array = check_array("array", array, kind="number", finite=False, nonempty=False)
    if array.dtype not in _CODES:
        raise TypeError(f"expected array of a dtype IDX can store ({', '.join(str(d) for d in _CODES)}), "
                        f"got {array.dtype}")
    code, path = _CODES[array.dtype], _path("path", path)
    with (gzip.open if path.suffix == ".gz" else open)(path, "wb") as f:
        f.write(bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.astype(np.dtype(_IDX_TYPES[code])).tobytes())
