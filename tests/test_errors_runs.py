"""Run folders: an existing --out is refused unless --force, an unwritable one is a clear error, and
evaluate refuses folders that are not complete, undamaged runs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import numpy as np
import pytest

from linclass.cli import main

from errors_support import assert_one_line_error, run_cli, train_args


# ---------------------------------------------------------------- output folder


def test_existing_output_folder_is_refused_unless_force(mnist_dir, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    code, _, err = run_cli(train_args(mnist_dir, out), capsys)
    assert_one_line_error(code, err, "already exists", "--force")
    code, _, err = run_cli(train_args(mnist_dir, out, "--force"), capsys)  # an empty folder: replaced
    assert code == 0, err
    assert (out / "weights.npz").is_file()
    code, _, err = run_cli(train_args(mnist_dir, out, "--force"), capsys)  # a linclass run: replaced
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_force_refuses_a_folder_linclass_did_not_write(mnist_dir, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run_cli(train_args(mnist_dir, out, "--force"), capsys)
    assert_one_line_error(code, err, "refusing to replace", "did not write", "keep.txt")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    # A linclass run folder with a user's file added is not linclass's alone either.
    assert run_cli(train_args(mnist_dir, tmp_path / "done"), capsys)[0] == 0
    (tmp_path / "done" / "notes.txt").write_text("mine")
    code, _, err = run_cli(train_args(mnist_dir, tmp_path / "done", "--force"), capsys)
    assert_one_line_error(code, err, "notes.txt")
    assert (tmp_path / "done" / "notes.txt").read_text() == "mine"
    # Hidden files and folders are the user's too (a .hidden file and a .git folder were deleted silently).
    (tmp_path / "done" / "notes.txt").unlink()
    (tmp_path / "done" / ".hidden").write_text("mine")
    (tmp_path / "done" / ".git").mkdir()
    code, _, err = run_cli(train_args(mnist_dir, tmp_path / "done", "--force"), capsys)
    assert_one_line_error(code, err, "did not write", ".git, .hidden")
    assert (tmp_path / "done" / ".hidden").read_text() == "mine" and (tmp_path / "done" / ".git").is_dir()


@pytest.mark.parametrize("where", ["cwd", "parent", "root", "data"])
def test_out_at_or_above_the_current_or_data_folder_is_always_refused(mnist_dir, tmp_path, capsys, monkeypatch,
                                                                       where):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    out = {"cwd": ".", "parent": "..", "root": "/", "data": str(mnist_dir)}[where]
    code, _, err = run_cli(train_args(mnist_dir, out, "--force"), capsys)
    assert_one_line_error(code, err, "refusing --out")
    assert work.is_dir() and any(mnist_dir.iterdir())


def test_force_keeps_the_old_folder_when_the_run_fails(mnist_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli(train_args(mnist_dir, out), capsys)[0] == 0
    before = sorted(p.name for p in out.iterdir())
    code, _, err = run_cli(train_args(tmp_path / "nowhere", out, "--force"), capsys)
    assert_one_line_error(code, err, "does not exist")
    assert sorted(p.name for p in out.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_output_folder_that_cannot_be_written(mnist_dir, tmp_path, capsys):
    (tmp_path / "a-file").write_text("x")
    code, _, err = run_cli(train_args(mnist_dir, tmp_path / "a-file" / "run"), capsys)
    assert_one_line_error(code, err, "cannot write")
    assert (tmp_path / "a-file").read_text() == "x"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_output_folder_in_a_read_only_folder(mnist_dir, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = run_cli(train_args(mnist_dir, locked / "run"), capsys)
        assert_one_line_error(code, err, "cannot write")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


# ---------------------------------------------------------------- evaluate on something that is not a run


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("finished") / "run"
    assert main([str(a) for a in train_args(mnist_dir, out)]) == 0
    return out


@pytest.fixture
def run_copy(finished_run, tmp_path):
    copy = tmp_path / "run-copy"
    shutil.copytree(finished_run, copy)
    return copy


def test_evaluate_on_a_folder_that_is_not_a_run(tmp_path, mnist_dir, capsys):
    code, _, err = run_cli(["evaluate", tmp_path / "absent", "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, "is not a folder")
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(["evaluate", tmp_path / "empty", "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, "is not a complete linclass run", "weights.npz")
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(["evaluate", tmp_path / "file", "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, "is not a folder")


def test_evaluate_on_a_finished_run_works(finished_run, mnist_dir, capsys):
    code, out, err = run_cli(["evaluate", finished_run, "--data-dir", mnist_dir], capsys)
    assert code == 0, err
    assert "validation accuracy" in out


def _npz(**arrays) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def restamp(folder) -> None:
    """Record the files' current SHA-256s in status.json, as a hand edit that also fixed them would:
    what is then refused is refused by the schema, not by the checksum."""
    status = json.loads((folder / "status.json").read_text())
    status["files"] = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in status["files"]}
    (folder / "status.json").write_text(json.dumps(status))


DAMAGED_WEIGHTS = {
    "garbage bytes": (b"this is not a zip file at all", "is damaged"),
    "empty file": (b"", "is damaged"),
    "truncated archive": (lambda good: good[: len(good) // 2], "is damaged"),
    "no weights array": (_npz(other=np.zeros((785, 1))), "lacks the entry weights"),
    "wrong shape": (_npz(weights=np.zeros((784, 1))), "shape (784, 1), expected (785, 1)"),
    "softmax shape for a logistic run": (_npz(weights=np.zeros((785, 10))), "expected (785, 1)"),
    "integer weights": (_npz(weights=np.zeros((785, 1), dtype=np.int64)), "dtype int64, expected float64"),
    "NaN weights": (_npz(weights=np.full((785, 1), np.nan)), "NaN or infinity"),
    "object array": (_npz(weights=np.array([None] * 785, dtype=object).reshape(785, 1)), "is damaged"),
    "huge declared shape": (lambda good: _huge_header(), "shape (10000000000, 10)"),
}


def _huge_header() -> bytes:
    """An npz whose weights entry declares shape (10**10, 10): refused from its header, no MemoryError."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**10, 10)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("weights.npy", header.getvalue() + b"\0" * 64)
    return buffer.getvalue()


def test_evaluate_refuses_a_file_changed_after_it_was_written(run_copy, mnist_dir, capsys):
    weights = np.load(run_copy / "weights.npz")["weights"]
    (run_copy / "weights.npz").write_bytes(_npz(weights=weights + 1e-3))  # well-formed, other numbers
    code, _, err = run_cli(["evaluate", run_copy, "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, "weights.npz", "was changed after linclass wrote it",
                          "train the run again (--force replaces the folder)")


@pytest.mark.parametrize("case", DAMAGED_WEIGHTS)
def test_evaluate_with_damaged_weights(run_copy, mnist_dir, capsys, case):
    payload, message = DAMAGED_WEIGHTS[case]
    weights = run_copy / "weights.npz"
    if callable(payload):
        payload = payload(weights.read_bytes())
    weights.write_bytes(payload)
    restamp(run_copy)
    code, _, err = run_cli(["evaluate", run_copy, "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, "weights.npz", message)


def test_evaluate_with_a_npy_file_as_weights(run_copy, mnist_dir, capsys):
    with open(run_copy / "weights.npz", "wb") as handle:
        np.save(handle, np.zeros((785, 1)))
    restamp(run_copy)
    code, _, err = run_cli(["evaluate", run_copy, "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, "weights.npz", "is damaged")


@pytest.mark.parametrize("name, payload, message", [
    ("config.json", "{not json", "is damaged"),
    ("config.json", json.dumps({"model": "logistic", "learning_rate": 0.1, "colour": "red"}), "unknown keys"),
    ("config.json", json.dumps({"model": "logistic", "digits": 7}), "is damaged"),
    ("history.json", "[]", "is damaged"),
    ("history.json", json.dumps({"train_loss_per_step": {"0": "x"}, "validation": {}}), "expected 31"),
    ("metrics.json", "", "is damaged"),
    ("metrics.json", json.dumps({"steps": -1}), "is damaged"),
    ("metrics.json", "[" * 100000, "not valid JSON"),
])
def test_evaluate_with_damaged_json(run_copy, mnist_dir, capsys, name, payload, message):
    (run_copy / name).write_text(payload)
    restamp(run_copy)
    code, _, err = run_cli(["evaluate", run_copy, "--data-dir", mnist_dir], capsys)
    assert_one_line_error(code, err, message)
