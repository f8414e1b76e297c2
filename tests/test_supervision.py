"""`reproduce --jobs 2` under supervision: a killed worker ends the run with one line (never a hang) and
it resumes; a killed parent leaves no worker running and a later start cleans its temporary folder;
SIGTERM to the whole process group saves like SIGTERM to the parent, and the saved progress is kept by
a resume with another --jobs; a double Ctrl-C keeps the finished work. Timeouts are hang guards only."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linclass.cli import main
from summary_support import comparable_summary

HANG_GUARD_SECONDS = 300
REPRODUCE = ["reproduce", "--only", "task4", "--max-epochs-override", "6"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("supervision-reference") / "out"
    assert main([*REPRODUCE, "--no-progress", "--data-dir", str(mnist_dir), "--out", str(out)]) == 0
    return comparable_summary(out)


def start(out, mnist_dir, *extra, **popen):
    return subprocess.Popen([sys.executable, "-m", "linclass.cli", *REPRODUCE, *extra, "--data-dir", str(mnist_dir),
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, **popen)


def wait_until_training(process, groups: int = 1) -> list[str]:
    """Read stderr until `groups` groups have started; the lines read."""
    lines = []
    for line in process.stderr:
        lines.append(line)
        text = "".join(lines)  # two workers' lines may share one line of stderr
        if text.count(": started") + text.count(": resumed at step") >= groups:
            return lines
    raise AssertionError("".join(lines))


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def workers(pid: int) -> list[int]:
    """The worker processes of a reproduce process (spawned multiprocessing children)."""
    result = []
    for child in children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                result.append(child)
        except OSError:
            pass
    return result


def wait_for(condition, what: str):
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"hang guard: {what}"
        time.sleep(0.05)


def test_a_killed_worker_ends_the_run_with_one_line_and_it_resumes(tmp_path, mnist_dir, reference):
    out = tmp_path / "out"
    process = start(out, mnist_dir, "--jobs", "2")
    wait_until_training(process, groups=2)
    victims = workers(process.pid)
    assert len(victims) == 2
    os.kill(victims[0], signal.SIGKILL)  # as the out-of-memory killer would
    _, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    assert process.returncode == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("linclass: error:") and "ended unexpectedly" in last and "SIGKILL" in last, err
    assert "Traceback" not in err
    assert json.loads((out / "status.json").read_text())["state"] == "incomplete"
    command = shlex.split(last.split("Resume with: ", 1)[1])
    assert command[:2] == ["linclass", "reproduce"] and "--jobs" in command
    assert main([*command[1:], "--no-progress"]) == 0  # as printed, after the program name
    assert comparable_summary(out) == reference


def test_a_killed_parent_leaves_no_worker_running_and_a_later_start_cleans_up(tmp_path, mnist_dir):
    out = tmp_path / "out"
    process = start(out, mnist_dir, "--jobs", "2")
    wait_until_training(process, groups=1)
    wait_for(lambda: len(workers(process.pid)) == 2, "two workers")
    orphans = workers(process.pid)
    process.kill()
    process.wait(timeout=HANG_GUARD_SECONDS)
    wait_for(lambda: not any(running(pid) for pid in orphans), "workers of a killed parent")
    assert list(tmp_path.glob(".out.*.tmp"))  # what the killed run had written, hidden
    assert main(["reproduce", "--only", "task1", "--no-progress", "--data-dir", str(mnist_dir),
                 "--out", str(out)]) == 0
    assert not list(tmp_path.glob(".out.*"))  # its process is dead: removed by the later start


def test_sigterm_to_the_process_group_saves_and_another_jobs_keeps_the_progress(tmp_path, mnist_dir, reference,
                                                                              capsys):
    out = tmp_path / "out"
    process = start(out, mnist_dir, "--jobs", "2", start_new_session=True)
    wait_until_training(process, groups=2)
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGTERM)  # what docker and systemd send: every process of the group
    _, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    if process.returncode == 0:
        pytest.skip("finished before the signal arrived")
    assert process.returncode == 130, err
    assert "Traceback" not in err and "--jobs 2" in err
    saved = list((out / "runs").glob(".checkpoint-*.npz"))
    assert saved  # the workers saved their state before ending
    capsys.readouterr()
    assert main(["reproduce", "--resume", "--jobs", "1", "--data-dir", str(mnist_dir), "--out", str(out)]) == 0
    progress = capsys.readouterr().err
    assert progress.count("resumed at step") == len(saved), progress  # not restarted from scratch
    assert comparable_summary(out) == reference
    assert not list((out / "runs").glob(".checkpoint-*"))


def test_a_double_ctrl_c_keeps_the_finished_work(tmp_path, mnist_dir, reference):
    out = tmp_path / "out"
    process = start(out, mnist_dir, "--jobs", "1")
    wait_until_training(process, groups=1)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    if process.returncode == 0:
        pytest.skip("finished before the signal arrived")
    assert process.returncode == 130 and "Traceback" not in err, err
    assert json.loads((out / "status.json").read_text())["state"] == "incomplete"
    assert main(["reproduce", "--resume", "--no-progress", "--data-dir", str(mnist_dir), "--out", str(out)]) == 0
    assert comparable_summary(out) == reference
