"""Downloads are never trusted unless verified: served by an http.server on 127.0.0.1 (no test touches
any other host), corrupted, cut off, killed or concurrent downloads leave no file that is trusted."""

from __future__ import annotations

import http.server
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from linclass.data import MNIST_FILES, load_mnist
from linclass.data import download as data
from linclass.data import DATASETS
from linclass.data.download import download_mnist
from linclass.errors import LinclassError

from errors_support import assert_nothing_left, assert_one_line_error, run_cli, sha256


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _DroppingHandler(_QuietHandler):
    """Announces the whole file, sends half of it, and hangs up."""

    def do_GET(self):
        body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def serve(tmp_path):
    """serve(folder, handler) -> 'http://127.0.0.1:PORT/' for a server on the loopback interface only."""
    servers = []

    def start(folder: Path, handler=_QuietHandler) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served_copy(tmp_path, mnist_dir):
    folder = tmp_path / "served"
    folder.mkdir()
    for spec in MNIST_FILES.values():
        shutil.copyfile(mnist_dir / f"{spec.name}.gz", folder / f"{spec.name}.gz")
    return folder


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _verified_files(folder: Path) -> list[str]:
    names = sorted(p.name for p in folder.iterdir())
    by_name = {f"{spec.name}.gz": spec.gz_sha256 for spec in MNIST_FILES.values()}
    for name in names:
        assert sha256((folder / name).read_bytes()) == by_name.get(name), f"unverified file {name} left behind"
    return names


def test_download_fetches_and_verifies_the_four_files(tmp_path, served_copy, serve, mnist):
    target = tmp_path / "cache" / "mnist"
    assert download_mnist(target, mirrors=(serve(served_copy),), progress=False) == target
    assert _verified_files(target) == sorted(f"{spec.name}.gz" for spec in MNIST_FILES.values())
    loaded = load_mnist(target)
    np.testing.assert_array_equal(loaded.test_images, mnist.test_images)


@pytest.mark.parametrize("key", ["train_images", "test_labels"])
def test_download_of_a_corrupted_file_leaves_nothing(tmp_path, served_copy, serve, key):
    spec = MNIST_FILES[key]
    served = served_copy / f"{spec.name}.gz"
    payload = bytearray(served.read_bytes())
    payload[100] ^= 0xFF
    served.write_bytes(bytes(payload))
    target = tmp_path / "target"
    url = serve(served_copy)
    with pytest.raises(LinclassError) as info:
        download_mnist(target, mirrors=(url,), progress=False)
    message = str(info.value)
    assert f"could not download {spec.name}.gz from {url} (SHA-256 mismatch)" in message
    assert "--data-dir" in message and "\n" not in message and len(message) < 300
    names = _verified_files(target)
    assert f"{spec.name}.gz" not in names
    if key == "train_images":  # the first file: nothing at all in the folder
        assert names == []


def test_download_falls_back_to_the_next_mirror(tmp_path, served_copy, serve):
    target = tmp_path / "target"
    download_mnist(target, mirrors=(closed_port_url(), serve(served_copy)), progress=False)
    assert len(_verified_files(target)) == 4


@pytest.mark.parametrize("handler, reason", [(_DroppingHandler, "download interrupted")])
def test_download_cut_off_halfway_leaves_nothing(tmp_path, served_copy, serve, handler, reason):
    target = tmp_path / "target"
    url = serve(served_copy, handler)
    expected = rf"could not download train-images-idx3-ubyte\.gz from {url} \({reason}\)"
    with pytest.raises(LinclassError, match=expected):
        download_mnist(target, mirrors=(url,), progress=False)
    assert _verified_files(target) == []


def test_download_error_is_one_short_line(tmp_path, serve):
    empty = tmp_path / "empty"
    empty.mkdir()
    dead, missing = closed_port_url(), serve(empty)
    with pytest.raises(LinclassError) as info:
        download_mnist(tmp_path / "target", mirrors=(dead, missing), progress=False)
    assert str(info.value) == (
        f"could not download train-images-idx3-ubyte.gz from {dead} (connection refused), "
        f"{missing} (HTTP 404); "
        "copy the four MNIST .gz files into a folder and pass --data-dir or set $LINCLASS_DATA_DIR."
    )
    assert _verified_files(tmp_path / "target") == []


def test_short_reasons_for_network_failures():
    import requests

    resolve = requests.ConnectionError("HTTPSConnectionPool(host='x', port=443): Max retries exceeded "
                                       "(Caused by NameResolutionError(\"Failed to resolve 'x'\"))")
    assert data._short_reason(resolve) == "no network"
    unreachable = requests.ConnectionError("[Errno 101] Network is unreachable")
    assert data._short_reason(unreachable) == "no network"
    assert data._short_reason(requests.ConnectTimeout("timed out")) == "timed out"
    mismatch = ValueError("SHA256 hash of downloaded file (x) does not match the known hash")
    assert data._short_reason(mismatch) == "SHA-256 mismatch"
    assert data._short_reason(PermissionError(13, "Permission denied")) == "Permission denied"


def test_cli_without_data_and_without_network(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LINCLASS_DATA_DIR", raising=False)
    monkeypatch.setenv("LINCLASS_CACHE_DIR", str(tmp_path / "cache"))
    dead = closed_port_url()
    monkeypatch.setitem(DATASETS, "mnist", replace(DATASETS["mnist"], mirrors=(dead,)))
    code, _, err = run_cli(["train", "--model", "logistic", "--out", tmp_path / "run", "--no-progress"], capsys)
    assert_one_line_error(code, err, f"could not download train-images-idx3-ubyte.gz from {dead} "
                                     "(connection refused)", "--data-dir")
    assert_nothing_left(tmp_path)
    assert list((tmp_path / "cache" / "mnist").iterdir()) == []


# ---------------------------------------------------------------- killed and concurrent downloads


class _SlowHandler(_QuietHandler):
    """Sends each file in small pieces, slowly enough to be interrupted."""

    def do_GET(self):
        body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for start in range(0, len(body), 1 << 16):
                self.wfile.write(body[start:start + (1 << 16)])
                threading.Event().wait(0.02)
        except OSError:
            pass  # the client went away


_DOWNLOADER = """
import sys
from pathlib import Path
from linclass.data.download import download_mnist
download_mnist(Path(sys.argv[1]), mirrors=(sys.argv[2],), progress=False)
"""


def test_killed_download_leaves_no_file_that_is_trusted(tmp_path, served_copy, serve):
    target, url = tmp_path / "target", serve(served_copy, _SlowHandler)
    downloader = subprocess.Popen([sys.executable, "-c", _DOWNLOADER, str(target), url])
    try:
        downloader.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        downloader.kill()
        downloader.wait()
    assert downloader.returncode != 0, "the download finished before it could be interrupted"
    if target.exists():
        _verified_files_among(target)  # only complete, verified files carry the final name
    download_mnist(target, mirrors=(serve(served_copy),), progress=False)
    assert len([p for p in target.iterdir() if p.suffix == ".gz"]) == 4
    assert len(_verified_files_among(target)) == 4


def _verified_files_among(folder: Path) -> list[str]:
    """The .gz files of folder, each checked against its SHA-256 (pooch's stray temporaries ignored)."""
    by_name = {f"{spec.name}.gz": spec.gz_sha256 for spec in MNIST_FILES.values()}
    names = sorted(p.name for p in folder.glob("*.gz"))
    for name in names:
        assert sha256((folder / name).read_bytes()) == by_name[name]
    return names


def test_two_processes_downloading_at_once(tmp_path, served_copy, serve, mnist):
    target, url = tmp_path / "target", serve(served_copy)
    downloaders = [subprocess.Popen([sys.executable, "-c", _DOWNLOADER, str(target), url],
                                    stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for downloader in downloaders:
        _, err = downloader.communicate(timeout=300)
        assert downloader.returncode == 0, err
    assert _verified_files(target) == sorted(f"{spec.name}.gz" for spec in MNIST_FILES.values())
    np.testing.assert_array_equal(load_mnist(target).train_labels, mnist.train_labels)
