"""Every file read back is untrusted: a hypothesis property mutates one JSON or npz file of a finished
run, of an interrupted run (its checkpoint) or of an interrupted reproduction, then runs `evaluate` or
`--resume` on it. Each outcome is exit 0 with exactly the untampered results, or exit 2 with one line:
never a traceback, never other numbers.

`make test` runs a few examples per folder (LINCLASS_TAMPER_EXAMPLES); `make fuzz` runs many more."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linclass.cli import main
from linclass.runs import RunConfig, make_split, save_checkpoint, train
from linclass.runs.store import save_trainer_state
from summary_support import comparable_summary
from training_support import StopAt

EXAMPLES = int(os.environ.get("LINCLASS_TAMPER_EXAMPLES", "12"))
TRAIN = ["train", "--model", "logistic", "--epochs", "2", "--no-progress"]
REPRODUCE = ["reproduce", "--only", "task2", "--max-epochs-override", "1", "--no-progress"]
TAMPER = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def run(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def assert_refused(code: int, err: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("linclass: error:"), (code, err)


# ---------------------------------------------------------------- mutations

json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70)
                           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=6)


def _nodes(value, path=()):
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _nodes(child, (*path, key))


def mutate_json(data: bytes, draw) -> bytes:
    value = json.loads(data)
    paths = list(_nodes(value))
    path = draw(st.sampled_from(paths))
    action = draw(st.sampled_from(["replace", "delete", "add"] if path else ["replace", "add"]))
    if not path:
        return json.dumps(draw(json_values)).encode() if action == "replace" else data + b" x"
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    if action == "replace":
        parent[path[-1]] = draw(json_values)
    elif action == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.text(max_size=6))] = draw(json_values)
    else:
        parent.append(draw(json_values))
    return json.dumps(value).encode()


def mutate_npz(data: bytes, draw) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    name = draw(st.sampled_from(sorted(members)))
    action = draw(st.sampled_from(["drop", "extra", "perturb", "dtype", "shape", "huge", "manifest"]))
    if name.endswith(".npy") and action in ("perturb", "dtype", "shape"):
        array = np.load(io.BytesIO(members[name]))
        if action == "perturb" and array.size:
            array = array.copy()
            array.flat[draw(st.integers(0, array.size - 1))] += 1
        elif action == "dtype":
            array = array.astype(draw(st.sampled_from([np.float32, np.int64, np.uint8, np.float64])))
        elif action == "shape":
            array = array.reshape(-1) if array.ndim > 1 else array[: max(0, array.size - 1)]
        buffer = io.BytesIO()
        np.save(buffer, array)
        members[name] = buffer.getvalue()
    elif action == "drop":
        del members[name]
    elif action == "extra":
        members["extra.npy"] = members[name]
    elif action == "huge" and name.endswith(".npy"):
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**10, 10)})
        members[name] = header.getvalue() + b"\0" * 80
    elif action == "manifest" and name == "manifest.json":
        members[name] = mutate_json(members[name], draw)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return buffer.getvalue()


def mutate_bytes(data: bytes, draw) -> bytes:
    action = draw(st.sampled_from(["truncate", "flip", "append", "empty"]))
    if action == "empty" or not data:
        return b""
    at = draw(st.integers(0, len(data) - 1))
    if action == "truncate":
        return data[:at]
    if action == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    return data + draw(st.binary(min_size=1, max_size=16))


def tamper(folder: Path, draw) -> Path:
    """Mutate one JSON or npz file under folder (structurally or byte by byte); the file changed."""
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".json", ".npz") and p.is_file())
    path = draw(st.sampled_from(files))
    data = path.read_bytes()
    structural = draw(st.booleans())
    if structural and path.suffix == ".json":
        data = mutate_json(data, draw)
    elif structural:
        data = mutate_npz(data, draw)
    else:
        data = mutate_bytes(data, draw)
    path.write_bytes(data)
    return path


@contextlib.contextmanager
def copy_of(folder: Path):
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / folder.name
        shutil.copytree(folder, copy)
        yield copy


# ---------------------------------------------------------------- the folders and their true results


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("tamper") / "run"
    assert run([*TRAIN, "--data-dir", mnist_dir, "--out", out])[0] == 0
    code, stdout, _ = run(["evaluate", out, "--data-dir", mnist_dir])
    assert code == 0
    return out, stdout.replace(str(out), "RUN")


def interrupted_state(mnist, config, step):
    split = make_split(config, mnist)
    event = threading.Event()
    model = train(config, split, [StopAt(step, event)], stop_event=event)
    assert model.interrupted_
    return model.checkpoint_


def run_files(folder: Path):
    with np.load(folder / "weights.npz") as archive:
        weights = archive["weights"]
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics.pop("wall_seconds")
    return weights, (folder / "history.json").read_text(), metrics


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory, mnist, mnist_dir, finished_run):
    config = RunConfig(model="logistic", max_epochs=2).resolved()
    out = tmp_path_factory.mktemp("tamper") / "interrupted"
    out.mkdir()
    save_checkpoint(out, config, interrupted_state(mnist, config, 20), "linclass train --resume")
    return out, run_files(finished_run[0])


@pytest.fixture(scope="module")
def interrupted_reproduction(tmp_path_factory, mnist, mnist_dir):
    out = tmp_path_factory.mktemp("tamper") / "reproduction"
    assert run([*REPRODUCE, "--data-dir", mnist_dir, "--out", out])[0] == 0
    reference = comparable_summary(out)
    # As interrupted: one run finished, the other saved at step 10, no report yet.
    metrics = json.loads((out / "runs" / "task2_logistic_shuffle" / "metrics.json").read_text())
    config = RunConfig.from_json(metrics["config"]).resolved()
    shutil.rmtree(out / "runs" / "task2_logistic_shuffle")
    save_trainer_state(out / "runs" / ".checkpoint-task2_logistic_shuffle.npz", interrupted_state(mnist, config, 10),
                       [config], ["task2_logistic_shuffle"])
    for name in ("summary.json", "report.md", "report.html"):
        (out / name).unlink()
    shutil.rmtree(out / "figures")
    status = json.loads((out / "status.json").read_text())
    status.update(state="incomplete", resume="linclass reproduce --resume")
    (out / "status.json").write_text(json.dumps(status))
    return out, reference


# ---------------------------------------------------------------- the properties


@TAMPER
@given(data=st.data())
def test_evaluate_on_a_tampered_run(finished_run, mnist_dir, data):
    folder, expected = finished_run
    with copy_of(folder) as copy:
        tamper(copy, data.draw)
        code, stdout, err = run(["evaluate", copy, "--data-dir", mnist_dir])
        if code == 0:
            assert stdout.replace(str(copy), "RUN") == expected
        else:
            assert_refused(code, err)


@TAMPER
@given(data=st.data())
def test_resume_of_a_tampered_checkpoint(interrupted_run, mnist_dir, data):
    folder, expected = interrupted_run
    with copy_of(folder) as copy:
        tamper(copy, data.draw)
        code, _, err = run(["train", "--resume", "--no-progress", "--data-dir", mnist_dir, "--out", copy])
        if code == 0:
            weights, history, metrics = run_files(copy)
            np.testing.assert_array_equal(weights, expected[0])
            assert history == expected[1] and metrics == expected[2]
        else:
            assert_refused(code, err)


@settings(TAMPER, max_examples=max(1, EXAMPLES // 2))
@given(data=st.data())
def test_resume_of_a_tampered_reproduction(interrupted_reproduction, mnist_dir, data):
    folder, expected = interrupted_reproduction
    with copy_of(folder) as copy:
        tamper(copy, data.draw)
        code, _, err = run(["reproduce", "--resume", "--no-progress", "--data-dir", mnist_dir, "--out", copy])
        if code == 0:
            assert comparable_summary(copy) == expected
        else:
            assert_refused(code, err)
