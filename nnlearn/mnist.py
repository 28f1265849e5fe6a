"""MNIST and Fashion-MNIST: where their IDX files are found, checked downloads, load_mnist.

Each file is searched for, in this order, as NAME.gz or NAME (uncompressed):
  1. $NNLEARN_DATA_DIR/<set>/, then $NNLEARN_DATA_DIR/
  2. the user cache, ~/.cache/nnlearn/<set>/ ($XDG_CACHE_HOME/nnlearn/<set>/ when that is set)
  3. the system data-set folder, /usr/share/datasets/<set>/ (Debian's `dataset-fashion-mnist`)
  4. a download into the user cache, checked against the publisher's md5 of the .gz file.
A file is used only if its decompressed content has the published md5, so a recompressed copy
(Debian's) is accepted and a damaged or wrong file is skipped with a warning.
"""
import hashlib
import os
import shutil
import tempfile
import urllib.request
import warnings
import zlib
from pathlib import Path

import numpy as np

from .idx import _path, parse_idx, read_bytes
from .validate import check_choice, check_type

DATA_DIR_ENV = "NNLEARN_DATA_DIR"
SYSTEM_DATA_DIR = Path("/usr/share/datasets")   # Debian installs data set X under /usr/share/datasets/X/

# <set>: mirrors, then per file stem: md5 of the published .gz (downloads) and of its content.
MNIST_SETS = {
    "mnist": {
        "urls": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"],
        "gz_md5": {"train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                   "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
                   "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
                   "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c"},
        "md5": {"train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
                "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
                "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
                "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637"},
    },
    "fashion-mnist": {
        "urls": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        "gz_md5": {"train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                   "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
                   "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
                   "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310"},
        "md5": {"train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
                "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
                "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
                "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965"},
    },
}
HOW_TO_GET = {"fashion-mnist": "as root on Debian/Ubuntu: apt-get install dataset-fashion-mnist; elsewhere: "}


class DataUnavailableError(RuntimeError):
    """The requested data set is neither on disk nor downloadable."""


# --- where the files are ------------------------------------------------------

def default_cache_dir():
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nnlearn"


def data_places(name, cache_dir=None):
    """The folders searched for data set `name`, in order, as (description, folder) pairs."""
    check_choice("name", name, MNIST_SETS)
    if cache_dir is not None:
        _path("cache_dir", cache_dir)
    places = []
    if os.environ.get(DATA_DIR_ENV):
        root = Path(os.environ[DATA_DIR_ENV])
        places += [(DATA_DIR_ENV, root / name), (DATA_DIR_ENV, root)]
    places.append(("the user cache", Path(cache_dir or default_cache_dir()) / name))
    places.append(("the system data-set folder", SYSTEM_DATA_DIR / name))
    return places


def _md5(data):
    return hashlib.md5(data).hexdigest()


def _identify(digest):
    """'the fashion-mnist file train-images-idx3-ubyte' when `digest` is a known content md5."""
    return next((f"the {s} file {stem}" for s, spec in MNIST_SETS.items()
                 for stem, md5 in spec["md5"].items() if md5 == digest), "an unknown file")


def _find(name, stem, cache_dir):
    """(array, where) from the first place holding the right content, or None."""
    expected = MNIST_SETS[name]["md5"][stem]
    for place, folder in data_places(name, cache_dir):
        for path in (folder / f"{stem}.gz", folder / stem):
            if not path.is_file():
                continue
            try:
                raw = read_bytes(path)
            except (OSError, EOFError, zlib.error) as exc:
                warnings.warn(f"ignoring {path}: cannot read it ({exc})", stacklevel=2)
                continue
            digest = _md5(raw)
            if digest != expected:
                warnings.warn(f"ignoring {path}: it is not the {name} file {stem} (content md5 {digest}, "
                              f"expected {expected}); it is {_identify(digest)}", stacklevel=2)
                continue
            return parse_idx(raw, path), f"{place} ({folder})"
    return None


def _download(urls, filename, md5, target):
    """Download to a temporary file, check the md5, then move into place: no partial files."""
    errors = []
    target.parent.mkdir(parents=True, exist_ok=True)
    for base in urls:
        url = base + filename
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{filename}.")
        try:
            with os.fdopen(fd, "wb") as tmp, urllib.request.urlopen(url, timeout=30) as response:
                shutil.copyfileobj(response, tmp)
            got = hashlib.md5(Path(tmp_name).read_bytes()).hexdigest()
            if got != md5:
                raise ValueError(f"checksum mismatch (expected md5 {md5}, got {got})")
            os.replace(tmp_name, target)
            return url
        except Exception as exc:  # try the next mirror, remember why this one failed
            errors.append(f"{url}: {exc}")
        finally:
            Path(tmp_name).unlink(missing_ok=True)
    raise DataUnavailableError(f"could not download {filename}: " + "; ".join(errors))


def _missing(name, stem, cache_dir, why):
    searched = ", ".join(str(folder) for _, folder in data_places(name, cache_dir))
    env = "" if os.environ.get(DATA_DIR_ENV) else f" ({DATA_DIR_ENV} is not set)"
    return DataUnavailableError(
        f"{name} is not available: {stem} was not found in {searched}{env}, and {why}. To get it, "
        f"{HOW_TO_GET.get(name, '')}put the four {name} IDX files (.gz or not) in a folder and set "
        f"{DATA_DIR_ENV} to it, or run once with internet access to download them into {Path(cache_dir or default_cache_dir()) / name}.")


def idx_array(name, stem, cache_dir=None, download=True):
    """One MNIST-format array, e.g. ("fashion-mnist", "t10k-labels-idx1-ubyte"), and a description
    of the place it came from (see the module docstring for the order)."""
    stem = check_choice("stem", stem, MNIST_SETS[check_choice("name", name, MNIST_SETS)]["md5"])
    check_type("download", download, bool, "True or False")
    if cache_dir is not None:
        _path("cache_dir", cache_dir)
    found = _find(name, stem, cache_dir)
    if found is not None:
        return found
    if not download:
        raise _missing(name, stem, cache_dir, "downloads are off (download=False)")
    target = Path(cache_dir or default_cache_dir()) / name / f"{stem}.gz"
    spec = MNIST_SETS[name]
    try:
        url = _download(spec["urls"], f"{stem}.gz", spec["gz_md5"][stem], target)
    except DataUnavailableError as exc:
        raise _missing(name, stem, cache_dir, str(exc)) from None
    raw = read_bytes(target)
    if _md5(raw) != spec["md5"][stem]:
        target.unlink()
        raise DataUnavailableError(f"{url}: the download has the right md5 but not the right content")
    return parse_idx(raw, target), f"a download from {url}, kept in the user cache ({target.parent})"


def load_mnist(name="mnist", split="train", cache_dir=None, download=True, verbose=True):
    """Images as float32 in [0, 1] with shape (n, 28, 28), labels as int64 (n,).
    `name` is "mnist" or "fashion-mnist", `split` is "train" or "test"."""
    check_choice("name", name, MNIST_SETS)
    prefix = {"train": "train", "test": "t10k"}[check_choice("split", split, ("train", "test"))]
    check_type("verbose", verbose, bool, "True or False")
    images, where = idx_array(name, f"{prefix}-images-idx3-ubyte", cache_dir, download)
    labels, where_labels = idx_array(name, f"{prefix}-labels-idx1-ubyte", cache_dir, download)
    if len(images) != len(labels):
        raise ValueError(f"{name} {split}: {len(images)} images but {len(labels)} labels")
    if verbose:
        also = "" if where_labels == where else f"; labels from {where_labels}"
        print(f"Loaded {name} ({split}): {len(images)} images of {images.shape[1]}x{images.shape[2]} "
              f"from {where}{also}; md5 checked.")
    X = images.astype(np.float32)
    X /= 255.0
    return X, labels.astype(np.int64)

