"""Folders on disk change all at once: a checkpoint is one file (a kill before its rename leaves the old
one, parts from two checkpoints are refused), "already exists" holds to the end, a replacement never
leaves --out empty, and a later start cleans what dead processes left."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import zipfile

import numpy as np
import pytest

from linclass import _atomic
from linclass._io import atomic_dir
from linclass.cli import main
from linclass.errors import LinclassError
from linclass.runs import RunConfig, load_checkpoint, make_split, save_checkpoint, train
from linclass.runs.store import load_trainer_state, save_trainer_state
from training_support import StopAt

HANG_GUARD_SECONDS = 300
CONFIG = RunConfig(model="logistic", max_epochs=3).resolved()


@pytest.fixture(scope="module")
def split(mnist):
    return make_split(CONFIG, mnist)


def interrupted(split, step):
    event = threading.Event()
    model = train(CONFIG, split, [StopAt(step, event)], stop_event=event)
    assert model.interrupted_
    return model.checkpoint_


def test_kill_before_the_checkpoint_rename_keeps_the_old_one_and_resumes_bit_identically(tmp_path, split,
                                                                                           monkeypatch):
    path = tmp_path / "runs" / ".checkpoint-run.npz"
    save_trainer_state(path, interrupted(split, 5), [CONFIG], ["run"])
    later = interrupted(split, 40)

    def killed(*args):
        raise KeyboardInterrupt  # as a kill between writing the new file and the rename

    monkeypatch.setattr(_atomic.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        save_trainer_state(path, later, [CONFIG], ["run"])
    monkeypatch.undo()
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no half-written file beside it
    state = load_trainer_state(path, [CONFIG])
    assert state["meta"]["global_step"] == 6
    resumed = train(CONFIG, split, resume_from=state)
    np.testing.assert_array_equal(resumed.weights_, train(CONFIG, split).weights_)


def test_parts_of_two_checkpoints_are_refused(tmp_path, split):
    early, late = tmp_path / "early.npz", tmp_path / "late.npz"
    save_trainer_state(early, interrupted(split, 5), [CONFIG], ["run"])
    save_trainer_state(late, interrupted(split, 40), [CONFIG], ["run"])
    mixed = tmp_path / "mixed.npz"
    with zipfile.ZipFile(early) as old, zipfile.ZipFile(late) as new, zipfile.ZipFile(mixed, "w") as out:
        out.writestr("manifest.json", old.read("manifest.json"))  # the step counter of step 5 ...
        for name in new.namelist():
            if name != "manifest.json":
                out.writestr(name, new.read(name))  # ... beside the weights of step 40
    with pytest.raises(LinclassError, match="does not belong to this checkpoint"):
        load_trainer_state(mixed, [CONFIG])
    manifest = json.loads(zipfile.ZipFile(early).read("manifest.json"))
    manifest["meta"]["global_step"] = 41  # a hand edit: the manifest no longer matches its digest
    edited = tmp_path / "edited.npz"
    with zipfile.ZipFile(early) as old, zipfile.ZipFile(edited, "w") as out:
        for name in old.namelist():
            out.writestr(name, json.dumps(manifest) if name == "manifest.json" else old.read(name))
    with pytest.raises(LinclassError, match="does not match its digest"):
        load_trainer_state(edited, [CONFIG])
    with pytest.raises(LinclassError, match="other settings"):
        load_trainer_state(early, [RunConfig(model="logistic", max_epochs=4).resolved()])


def test_a_run_folder_checkpoint_is_refused_when_its_parts_disagree(tmp_path, split):
    folder = tmp_path / "run"
    folder.mkdir()
    save_checkpoint(folder, CONFIG, interrupted(split, 5), "linclass train --resume")
    other = tmp_path / "other"
    other.mkdir()
    save_checkpoint(other, CONFIG, interrupted(split, 40), "linclass train --resume")
    (folder / "checkpoint.npz").write_bytes((other / "checkpoint.npz").read_bytes())
    with pytest.raises(LinclassError, match="was changed after linclass wrote it"):
        load_checkpoint(folder)


def test_a_folder_that_appears_meanwhile_is_never_replaced(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(LinclassError, match="appeared while this command ran") as error:
        with atomic_dir(out) as folder:
            (folder / "status.json").write_text("{}")
            out.mkdir()
            (out / "mine.txt").write_text("the user's")
    assert (out / "mine.txt").read_text() == "the user's"
    assert (tmp_path / "run.1" / "status.json").is_file() and "run.1" in str(error.value)


def test_forced_replacement_swaps_in_one_step_and_recovers_an_interrupted_one(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    with atomic_dir(out, force=True, replaceable=lambda path: None) as folder:
        (folder / "new.txt").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"] and (out / "new.txt").is_file()
    # Where the two folders cannot be swapped at once, the old one is moved aside first; a process that
    # dies between the two renames leaves it there, and the next start puts it back.
    aside = tmp_path / ".run.999999999-x.old"
    aside.mkdir()
    os.rename(out, aside / "previous")
    with atomic_dir(out, force=True, replaceable=lambda path: None) as folder:
        assert (out / "new.txt").is_file()  # recovered before anything else
        (folder / "newer.txt").write_text("newer")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"] and (out / "newer.txt").is_file()


def test_a_later_start_removes_temporary_folders_of_dead_processes(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".run.{int(dead.stdout)}-abc.tmp"
    stale.mkdir()
    mine = tmp_path / f".run.{os.getpid()}-abc.tmp"  # a live process's: kept
    mine.mkdir()
    with atomic_dir(tmp_path / "run"):
        pass
    assert not stale.exists() and mine.exists()


def test_two_concurrent_trainings_into_the_same_folder_keep_both_or_refuse_one(tmp_path, mnist_dir):
    out = tmp_path / "same"
    command = [sys.executable, "-m", "linclass.cli", "train", "--model", "logistic", "--epochs", "3",
               "--no-progress", "--data-dir", str(mnist_dir), "--out", str(out)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outcomes = [(p.wait(timeout=HANG_GUARD_SECONDS), p.stderr.read()) for p in processes]
    assert sorted(code for code, _ in outcomes) in ([0, 0], [0, 2]), outcomes
    assert json.loads((out / "status.json").read_text())["state"] == "complete"
    for code, err in outcomes:
        if code == 2:  # the second to finish: one line, and its run is kept where it says (or refused at once)
            assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
            if "kept in" in err:
                kept = err.strip().rsplit("kept in ", 1)[1].rstrip(".")
                assert json.loads((tmp_path / os.path.basename(kept) / "status.json").read_text())["state"] == "complete"
            else:
                assert "already exists" in err


def test_expected_os_failures_are_one_line(tmp_path, mnist_dir, capsys, monkeypatch):
    long_name = tmp_path / ("x" * 300)
    assert main(["train", "--model", "logistic", "--epochs", "1", "--no-progress", "--data-dir", str(mnist_dir),
                 "--out", str(long_name)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "ENAMETOOLONG" in err and "x" * 300 in err

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("linclass._io.json.dump", full)
    assert main(["train", "--model", "logistic", "--epochs", "1", "--no-progress", "--data-dir", str(mnist_dir),
                 "--out", str(tmp_path / "full")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "ENOSPC" in err and "config.json" in err
    assert not (tmp_path / "full").exists() and not list(tmp_path.glob(".full.*"))


def test_a_huge_raw_data_file_is_refused_by_its_size(tmp_path, mnist_dir, capsys):
    from linclass.data import MNIST_FILES

    for spec in MNIST_FILES.values():
        os.symlink(mnist_dir / f"{spec.name}.gz", tmp_path / f"{spec.name}.gz")
    os.unlink(tmp_path / "train-images-idx3-ubyte.gz")
    with open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as handle:
        handle.truncate(200 * 10**9)  # sparse: 200 GB declared, nothing on disk
    assert main(["train", "--model", "logistic", "--epochs", "1", "--no-progress", "--data-dir", str(tmp_path),
                 "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "200.0 GB, far larger than any MNIST or Fashion-MNIST file" in err


def test_a_path_the_terminal_cannot_print_is_escaped(tmp_path, mnist_dir):
    out = os.fsencode(tmp_path) + b"/run-\xff"
    code = ("import sys; from linclass.cli import main; "
            f"sys.exit(main(['evaluate', {os.fsdecode(out)!r}, '--data-dir', {str(mnist_dir)!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            env={**os.environ, "PYTHONIOENCODING": "ascii"}, timeout=HANG_GUARD_SECONDS)
    assert result.returncode == 2 and b"Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_npz_entries_are_read_by_name_without_inflating_others(tmp_path):
    from linclass._npz import Spec, read_npz

    path = tmp_path / "big.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("unused.npy", "w", force_zip64=True) as member:  # 1 GB of zeros, ~1 MB compressed
            np.lib.format.write_array_header_1_0(member, {"descr": "|u1", "fortran_order": False, "shape": (1 << 30,)})
            chunk = bytes(1 << 24)
            for _ in range(64):
                member.write(chunk)
        buffer = io.BytesIO()
        np.save(buffer, np.ones((785, 1)))
        archive.writestr("weights.npy", buffer.getvalue())
    arrays = read_npz(path, {"weights": Spec(np.float64, (785, 1))})
    assert list(arrays) == ["weights"] and arrays["weights"].sum() == 785
    with pytest.raises(LinclassError, match="more than"):
        read_npz(path, {"unused": None})
