import gzip
import hashlib
import io
import urllib.request

import numpy as np
import pytest

from nnlearn import data
from nnlearn.data import (DataUnavailableError, load_digits, load_mnist, load_mnist_or_digits,
                          make_blobs, make_moons, make_spirals, make_xor, read_idx, write_idx)


@pytest.mark.parametrize("suffix", [".idx", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    write_idx(tmp_path / f"a{suffix}", array)
    back = read_idx(tmp_path / f"a{suffix}")
    assert back.shape == (2, 3, 4) and back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, array)


def test_idx_reader_parses_the_byte_layout_by_hand(tmp_path):
    # magic 0x00000801 (uint8, 1 dimension), size 3, then the bytes
    (tmp_path / "labels").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9]))
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), [7, 2, 9])
    # int32 big-endian, shape (2,)
    (tmp_path / "ints").write_bytes(bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 1, 0, 255, 255, 255, 255]))
    np.testing.assert_array_equal(read_idx(tmp_path / "ints"), [256, -1])


def test_idx_reader_rejects_bad_files(tmp_path):
    (tmp_path / "junk").write_bytes(b"\x89PNG....")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "junk")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match="header says shape"):
        read_idx(tmp_path / "short")
    (tmp_path / "type").write_bytes(bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 1]))
    with pytest.raises(ValueError, match="unknown IDX data type"):
        read_idx(tmp_path / "type")


def write_fake_mnist(folder, n_train=6, n_test=3):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)).astype(np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n).astype(np.uint8))


def test_load_mnist_from_the_data_dir_variable(tmp_path, monkeypatch, capsys):
    write_fake_mnist(tmp_path / "mnist")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    X, y = load_mnist("mnist", "test", download=False)
    assert X.shape == (3, 28, 28) and X.dtype == np.float32 and 0 <= X.min() and X.max() <= 1
    assert y.shape == (3,) and y.dtype == np.int64
    assert "Loaded mnist (test): 3 images of 28x28" in capsys.readouterr().out
    Xtr, _, used = load_mnist_or_digits("train", download=False)
    assert used == "mnist" and Xtr.shape == (6, 784)


def test_offline_without_files_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    with pytest.raises(DataUnavailableError, match="set NNLEARN_DATA_DIR"):
        load_mnist("fashion-mnist", "train", cache_dir=tmp_path, download=False)


def test_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match="unknown name 'emnist'"):
        load_mnist("emnist")


class FakeServer:
    """Stands in for urllib.request.urlopen, serving files from a dict of url -> bytes."""

    def __init__(self, files):
        self.files, self.requests = files, []

    def __call__(self, url, timeout=None):
        self.requests.append(url)
        if url not in self.files:
            raise OSError(f"no route to {url}")
        return io.BytesIO(self.files[url])


def fake_mnist_files(base):
    files, md5 = {}, {}
    for name in data.MNIST_SETS["mnist"]["md5"]:
        array = np.zeros((2, 28, 28) if "images" in name else (2,), dtype=np.uint8)
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb") as f:
            f.write(bytes([0, 0, 8, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape) + array.tobytes())
        files[base + name] = buf.getvalue()
        md5[name] = hashlib.md5(buf.getvalue()).hexdigest()
    return files, md5


def test_download_checks_checksum_caches_and_falls_back_to_a_mirror(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    files, md5 = fake_mnist_files("https://mirror.example/")
    monkeypatch.setitem(data.MNIST_SETS, "mnist",
                        {"urls": ["https://dead.example/", "https://mirror.example/"], "md5": md5})
    server = FakeServer(files)
    monkeypatch.setattr(urllib.request, "urlopen", server)
    X, y = load_mnist("mnist", "train", cache_dir=tmp_path)
    assert X.shape == (2, 28, 28) and y.shape == (2,)
    assert (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").is_file()
    asked = len(server.requests)
    load_mnist("mnist", "train", cache_dir=tmp_path)        # second time: from the cache
    assert len(server.requests) == asked


def test_download_with_a_wrong_checksum_fails_and_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    files, md5 = fake_mnist_files("https://mirror.example/")
    md5 = {name: "0" * 32 for name in md5}
    monkeypatch.setitem(data.MNIST_SETS, "mnist", {"urls": ["https://mirror.example/"], "md5": md5})
    monkeypatch.setattr(urllib.request, "urlopen", FakeServer(files))
    with pytest.raises(DataUnavailableError, match="checksum mismatch"):
        load_mnist("mnist", "train", cache_dir=tmp_path)
    assert [p for p in (tmp_path / "mnist").iterdir()] == []


def test_fallback_to_bundled_digits_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data, "default_cache_dir", lambda: tmp_path)
    X, y, used = load_mnist_or_digits(download=False)
    assert used == "digits-8x8" and X.shape == (1797, 64) and y.shape == (1797,)
    out = capsys.readouterr().out
    assert "MNIST is not available" in out and "Falling back to scikit-learn's bundled 8x8 digits" in out


def test_bundled_digits():
    X, y = load_digits(verbose=False)
    assert X.shape == (1797, 64) and X.min() == 0 and X.max() == 1
    assert set(np.unique(y)) == set(range(10))


@pytest.mark.parametrize("make", [
    lambda rng: make_blobs(10, [[0, 0], [3, 3], [0, 3]], 0.5, rng),
    lambda rng: make_xor(30, rng),
    lambda rng: make_moons(31, rng),
    lambda rng: make_spirals(10, 3, rng),
])
def test_generators_are_reproducible_from_the_rng(make):
    X1, y1 = make(np.random.default_rng(7))
    X2, y2 = make(np.random.default_rng(7))
    X3, _ = make(np.random.default_rng(8))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert X1.shape == (len(y1), 2)


def test_xor_labels_follow_the_corners():
    X, y = make_xor(200, np.random.default_rng(0), noise=0.0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


def test_train_test_split_partitions_and_is_reproducible():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, 0.3, np.random.default_rng(0))
    assert len(Xte) == 3 and len(Xtr) == 7
    assert sorted(np.concatenate([ytr, yte])) == list(range(10))
    np.testing.assert_array_equal(Xtr[:, 0] // 2, ytr)          # rows stay with their labels
    again = data.train_test_split(X, y, 0.3, np.random.default_rng(0))
    np.testing.assert_array_equal(again[3], yte)
    with pytest.raises(ValueError, match="test_fraction"):
        data.train_test_split(X, y, 1.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"Expected X batch_size \(10\) to match y batch_size \(3\)"):
        data.train_test_split(X, y[:3], 0.5, np.random.default_rng(0))


def test_one_hot():
    np.testing.assert_array_equal(data.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="0..2"):
        data.one_hot([3], 3)
