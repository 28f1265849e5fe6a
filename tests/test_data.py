import functools
import gzip
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from nnlearn import data, mnist
from nnlearn.data import (DataUnavailableError, load_digits, load_mnist, load_mnist_or_digits, load_real_images,
                          make_blobs, make_moons, make_spirals, make_xor, read_idx, write_idx)

REAL_SYSTEM_DIR = Path("/usr/share/datasets")


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


# --- MNIST / Fashion-MNIST: where the files are found ------------------------------------

STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture(autouse=True)
def no_real_data_places(tmp_path, monkeypatch):
    """Every test starts with no data anywhere: no NNLEARN_DATA_DIR, an empty user cache and an
    empty system folder (tests that want the real Debian package put it back), not under CI."""
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setattr(mnist, "SYSTEM_DATA_DIR", tmp_path / "usr-share-datasets")


def idx_bytes(array):
    """The IDX encoding written out by hand (magic, big-endian sizes, values): independent of write_idx."""
    return bytes([0, 0, 8, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape) + array.tobytes()


def fake_set(seed, n_train=6, n_test=3):
    """stem -> uint8 array, for the four files of a tiny MNIST-like set."""
    rng = np.random.default_rng(seed)
    return {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
            "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8)}


def gz_files(arrays):
    """stem -> bytes of the gzipped IDX file."""
    return {stem: gzip.compress(idx_bytes(a), mtime=0) for stem, a in arrays.items()}


def register(monkeypatch, name, arrays, urls=()):
    """Make `arrays` the official content of data set `name` (its md5s), with download mirrors `urls`."""
    gz = gz_files(arrays)
    monkeypatch.setitem(data.MNIST_SETS, name, {
        "urls": list(urls),
        "gz_md5": {stem: hashlib.md5(b).hexdigest() for stem, b in gz.items()},
        "md5": {stem: hashlib.md5(idx_bytes(a)).hexdigest() for stem, a in arrays.items()}})
    return gz


def write_set(folder, arrays, compressed=True):
    folder.mkdir(parents=True, exist_ok=True)
    for stem, a in arrays.items():
        if compressed:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(idx_bytes(a)))
        else:
            (folder / stem).write_bytes(idx_bytes(a))


def test_load_mnist_from_the_data_dir_variable(tmp_path, monkeypatch, capsys):
    arrays = fake_set(0)
    register(monkeypatch, "mnist", arrays)
    write_set(tmp_path / "mine" / "mnist", arrays)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "mine"))
    X, y = load_mnist("mnist", "test", download=False)
    assert X.shape == (3, 28, 28) and X.dtype == np.float32 and 0 <= X.min() and X.max() <= 1
    np.testing.assert_array_equal(X * 255, arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(y, arrays["t10k-labels-idx1-ubyte"])
    assert y.dtype == np.int64
    out = capsys.readouterr().out
    assert f"Loaded mnist (test): 3 images of 28x28 from NNLEARN_DATA_DIR ({tmp_path / 'mine' / 'mnist'})" in out
    Xtr, _, used = load_mnist_or_digits("train", download=False)
    assert used == "mnist" and Xtr.shape == (6, 784)


def test_the_data_dir_may_hold_the_files_directly_and_uncompressed(tmp_path, monkeypatch, capsys):
    arrays = fake_set(1)
    register(monkeypatch, "fashion-mnist", arrays)
    write_set(tmp_path, arrays, compressed=False)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    X, y = load_mnist("fashion-mnist", "train", download=False)
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte"])
    assert f"from NNLEARN_DATA_DIR ({tmp_path})" in capsys.readouterr().out


def test_load_from_the_user_cache(tmp_path, monkeypatch, capsys):
    arrays = fake_set(2)
    register(monkeypatch, "mnist", arrays)
    write_set(tmp_path / "xdg-cache" / "nnlearn" / "mnist", arrays)
    _, y = load_mnist("mnist", "train", download=False)
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte"])
    assert f"from the user cache ({tmp_path / 'xdg-cache' / 'nnlearn' / 'mnist'})" in capsys.readouterr().out
    # an explicit cache_dir replaces the default one
    write_set(tmp_path / "elsewhere" / "mnist", arrays)
    load_mnist("mnist", "test", cache_dir=tmp_path / "elsewhere", download=False)
    assert f"from the user cache ({tmp_path / 'elsewhere' / 'mnist'})" in capsys.readouterr().out


def test_load_from_the_system_data_set_folder(tmp_path, monkeypatch, capsys):
    arrays = fake_set(3)
    register(monkeypatch, "fashion-mnist", arrays)
    write_set(mnist.SYSTEM_DATA_DIR / "fashion-mnist", arrays)
    _, y = load_mnist("fashion-mnist", "test", download=False)
    np.testing.assert_array_equal(y, arrays["t10k-labels-idx1-ubyte"])
    assert (f"from the system data-set folder ({tmp_path / 'usr-share-datasets' / 'fashion-mnist'})"
            in capsys.readouterr().out)


def test_places_are_searched_in_order(tmp_path, monkeypatch, capsys):
    arrays = fake_set(4)
    register(monkeypatch, "mnist", arrays)
    places = {"NNLEARN_DATA_DIR": tmp_path / "env" / "mnist",
              "the user cache": tmp_path / "xdg-cache" / "nnlearn" / "mnist",
              "the system data-set folder": mnist.SYSTEM_DATA_DIR / "mnist"}
    for folder in places.values():
        write_set(folder, arrays)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "env"))
    for place, folder in places.items():
        load_mnist("mnist", "test", download=False)
        assert f"from {place} ({folder})" in capsys.readouterr().out
        shutil.rmtree(folder)                      # next time the next place must be used
    with pytest.raises(DataUnavailableError):
        load_mnist("mnist", "test", download=False)


def test_a_wrong_file_is_skipped_with_a_warning(tmp_path, monkeypatch, capsys):
    mine, theirs = fake_set(5), fake_set(6)
    register(monkeypatch, "mnist", mine)
    register(monkeypatch, "fashion-mnist", theirs)
    write_set(tmp_path / "env", theirs)            # Fashion-MNIST files where MNIST is looked for
    (tmp_path / "env" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    write_set(mnist.SYSTEM_DATA_DIR / "mnist", mine)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "env"))
    with pytest.warns(UserWarning) as caught:
        _, y = load_mnist("mnist", "test", download=False)
    np.testing.assert_array_equal(y, mine["t10k-labels-idx1-ubyte"])
    messages = " | ".join(str(w.message) for w in caught)
    assert "it is not the mnist file t10k-images-idx3-ubyte" in messages
    assert "it is the fashion-mnist file t10k-images-idx3-ubyte" in messages
    assert "t10k-labels-idx1-ubyte.gz: cannot read it" in messages
    assert "from the system data-set folder" in capsys.readouterr().out


def test_offline_without_files_is_a_clear_error(tmp_path):
    with pytest.raises(DataUnavailableError) as info:
        load_mnist("fashion-mnist", "train", cache_dir=tmp_path, download=False)
    message = str(info.value)
    assert "train-images-idx3-ubyte was not found in" in message and "NNLEARN_DATA_DIR is not set" in message
    assert "apt-get install dataset-fashion-mnist" in message and "set NNLEARN_DATA_DIR" in message


def test_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match="unknown name 'emnist'"):
        load_mnist("emnist")
    with pytest.raises(ValueError, match="unknown split 'validation'"):
        load_mnist("mnist", "validation")


@pytest.mark.skipif(not (REAL_SYSTEM_DIR / "fashion-mnist" / "train-images-idx3-ubyte.gz").is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
def test_the_installed_debian_package(monkeypatch, capsys):
    monkeypatch.setattr(mnist, "SYSTEM_DATA_DIR", REAL_SYSTEM_DIR)
    (X, y), (X_test, y_test), name = load_real_images(download=False)
    out = capsys.readouterr().out
    if name == "fashion-mnist":                    # no MNIST on this machine: says so, then says where
        assert "MNIST is not available, so this run tries fashion-mnist" in out
        assert f"from the system data-set folder ({REAL_SYSTEM_DIR / 'fashion-mnist'}); md5 checked" in out
        assert np.bincount(y).tolist() == [6000] * 10 and np.bincount(y_test).tolist() == [1000] * 10
    assert X.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28) and X.dtype == np.float32
    assert X.min() == 0 and X.max() == 1


# --- downloads, from a real HTTP server on 127.0.0.1 ---------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serves tmp_path/www at http://127.0.0.1:PORT/; `.requests` lists the paths asked for."""
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    (tmp_path / "www").mkdir()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(tmp_path / "www")))
    httpd.requests, httpd.url, httpd.root = [], f"http://127.0.0.1:{httpd.server_address[1]}/", tmp_path / "www"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def publish(server, folder, gz):
    (server.root / folder).mkdir()
    for stem, content in gz.items():
        (server.root / folder / f"{stem}.gz").write_bytes(content)
    return server.url + folder + "/"


def test_download_checks_the_checksum_caches_and_falls_back_to_a_mirror(tmp_path, monkeypatch, server, capsys):
    arrays = fake_set(7)
    mirror = publish(server, "mirror", gz_files(arrays))
    register(monkeypatch, "mnist", arrays, urls=[server.url + "dead/", mirror])
    X, y = load_mnist("mnist", "train")
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte"])
    cache = tmp_path / "xdg-cache" / "nnlearn" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    assert server.requests == ["/dead/train-images-idx3-ubyte.gz", "/mirror/train-images-idx3-ubyte.gz",
                               "/dead/train-labels-idx1-ubyte.gz", "/mirror/train-labels-idx1-ubyte.gz"]
    assert (f"from a download from {mirror}train-images-idx3-ubyte.gz, kept in the user cache ({cache})"
            in capsys.readouterr().out)
    load_mnist("mnist", "train")                   # second time: from the cache, no request
    assert len(server.requests) == 4 and f"from the user cache ({cache})" in capsys.readouterr().out


def test_download_with_a_wrong_checksum_fails_and_leaves_no_file(tmp_path, monkeypatch, server):
    arrays = fake_set(8)
    url = publish(server, "mirror", gz_files(arrays))
    register(monkeypatch, "mnist", arrays, urls=[url])
    data.MNIST_SETS["mnist"]["gz_md5"]["train-images-idx3-ubyte"] = "0" * 32
    with pytest.raises(DataUnavailableError) as info:
        load_mnist("mnist", "train")
    assert f"{url}train-images-idx3-ubyte.gz: checksum mismatch (expected md5 {'0' * 32}, got " in str(info.value)
    assert "To get it" in str(info.value)
    assert server.requests == ["/mirror/train-images-idx3-ubyte.gz"]
    assert list((tmp_path / "xdg-cache" / "nnlearn" / "mnist").iterdir()) == []    # no partial file


def test_a_damaged_cache_file_is_downloaded_again(tmp_path, monkeypatch, server):
    arrays = fake_set(9)
    register(monkeypatch, "mnist", arrays, urls=[publish(server, "m", gz_files(arrays))])
    cache = tmp_path / "xdg-cache" / "nnlearn" / "mnist"
    write_set(cache, {"t10k-labels-idx1-ubyte": arrays["t10k-labels-idx1-ubyte"][:2]})     # cut short
    with pytest.warns(UserWarning, match="is not the mnist file t10k-labels-idx1-ubyte"):
        _, y = load_mnist("mnist", "test")
    np.testing.assert_array_equal(y, arrays["t10k-labels-idx1-ubyte"])
    assert server.requests == ["/m/t10k-images-idx3-ubyte.gz", "/m/t10k-labels-idx1-ubyte.gz"]


# --- real 28x28 images for the chapters ----------------------------------------------------

def test_real_images_are_mnist_when_it_is_there(tmp_path, monkeypatch, capsys):
    digits, fashion = fake_set(10, 8, 4), fake_set(11)
    register(monkeypatch, "mnist", digits)
    register(monkeypatch, "fashion-mnist", fashion)
    write_set(tmp_path / "xdg-cache" / "nnlearn" / "mnist", digits)
    write_set(mnist.SYSTEM_DATA_DIR / "fashion-mnist", fashion)
    (X, y), (X_test, y_test), name = load_real_images(download=False)
    assert name == "mnist" and X.shape == (8, 28, 28) and X_test.shape == (4, 28, 28)
    np.testing.assert_array_equal(y_test, digits["t10k-labels-idx1-ubyte"])
    assert "not available" not in capsys.readouterr().out
    assert set(data.MLP_ACCURACY_TARGETS) == set(data.REAL_IMAGE_SETS) == set(data.CLASS_NAMES)


def test_real_images_fall_back_to_fashion_mnist_and_say_why_in_full(monkeypatch, server, capsys):
    fashion = fake_set(12)
    register(monkeypatch, "mnist", fake_set(13), urls=[server.url + "gone/", server.url + "gone-too/"])
    register(monkeypatch, "fashion-mnist", fashion)
    write_set(mnist.SYSTEM_DATA_DIR / "fashion-mnist", fashion)
    (X, y), _, name = load_real_images(flatten=True)
    assert name == "fashion-mnist" and X.shape == (6, 784)
    np.testing.assert_array_equal(y, fashion["train-labels-idx1-ubyte"])
    out = capsys.readouterr().out
    first, loaded = out.index("MNIST is not available, so this run tries fashion-mnist"), out.index("Loaded fashion-mnist")
    assert first < loaded                          # the reason comes before the loading
    reason = out[first:loaded]                     # the whole reason: both mirrors and the way out
    assert f"{server.url}gone/train-images-idx3-ubyte.gz: HTTP Error 404" in reason
    assert f"{server.url}gone-too/train-images-idx3-ubyte.gz: HTTP Error 404" in reason
    assert reason.rstrip().endswith("download them into " + str(mnist.default_cache_dir() / "mnist") + ".")


def test_no_real_images_is_an_error_that_says_how_to_get_them(monkeypatch):
    with pytest.raises(DataUnavailableError) as info:
        load_real_images(download=False)
    message = str(info.value)
    assert "No real 28x28 images" in message and "apt-get install dataset-fashion-mnist" in message
    assert "NNLEARN_DATA_DIR" in message and "CI=true" not in message
    monkeypatch.setenv("CI", "true")
    with pytest.raises(DataUnavailableError, match="Under CI=true this is an error, never a fallback"):
        load_real_images(download=False)


def test_real_images_subsample(tmp_path, monkeypatch, capsys):
    arrays = fake_set(14, 50, 20)
    register(monkeypatch, "fashion-mnist", arrays)
    write_set(mnist.SYSTEM_DATA_DIR / "fashion-mnist", arrays)
    (X, y), (X_test, y_test), _ = load_real_images(10, 5, rng=np.random.default_rng(0), download=False)
    assert X.shape == (10, 28, 28) and y.shape == (10,) and X_test.shape == (5, 28, 28)
    assert "random subsample of fashion-mnist: 10 training and 5 test images" in capsys.readouterr().out
    full = arrays["train-images-idx3-ubyte"].reshape(50, -1)
    rows = [int(np.flatnonzero((full == np.round(x.ravel() * 255)).all(axis=1))[0]) for x in X]
    assert len(set(rows)) == 10                    # distinct images, each with its own label
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte"][rows])
    (X2, _), _, _ = load_real_images(10, 5, rng=np.random.default_rng(0), download=False, verbose=False)
    (X3, _), _, _ = load_real_images(10, 5, rng=np.random.default_rng(1), download=False, verbose=False)
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, X3)
    with pytest.raises(ValueError, match="expected rng = np.random.default_rng"):
        load_real_images(10, download=False)
    with pytest.raises(ValueError, match=r"expected n_test in \[1, 20\], got 21"):
        load_real_images(n_test=21, rng=np.random.default_rng(0), download=False)


def test_fallback_to_bundled_digits_says_so_in_full(capsys, monkeypatch):
    X, y, used = load_mnist_or_digits(download=False)
    assert used == "digits-8x8" and X.shape == (1797, 64) and y.shape == (1797,)
    out = capsys.readouterr().out
    assert "MNIST is not available. mnist is not available: train-images-idx3-ubyte was not found" in out
    assert "(download=False). To get it, put the four mnist IDX files" in out
    assert "Falling back to scikit-learn's bundled 8x8 digits" in out
    monkeypatch.setenv("CI", "true")
    with pytest.raises(DataUnavailableError, match="CI=true: no fallback to the 8x8 digits"):
        load_mnist_or_digits(download=False)


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
