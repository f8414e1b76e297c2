"""What runs when (report/schedule.py): a follower (a task's figures) runs as soon as the runs it needs are
done, while other runs still train, in a worker process or in this one. Behavioural: the order of
events in a log, never a duration. Timeouts are hang guards only."""

from __future__ import annotations

import threading
import time
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pytest

from linclass.report.schedule import Follower, run_tasks
from linclass.report.workers import TRAIN

HANG_GUARD_SECONDS = 120


def log(path: Path, event: str) -> None:
    with open(path, "a") as handle:  # one short append: whole lines even from two processes
        handle.write(event + "\n")


def events(path: Path) -> list[str]:
    return path.read_text().splitlines()


def train(names: list[str], path: Path, wait_for: str | None = None, stop_event=None) -> list:
    """A stand-in for run_group: logs its end and returns a result per name; with wait_for, it ends only
    once that event is in the log (or the hang guard gives up, which the test then sees)."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while wait_for is not None and wait_for not in events(path):
        if time.monotonic() > deadline:
            log(path, "hang guard")
            break
        time.sleep(0.01)
    log(path, f"trained {'+'.join(names)}")
    return [SimpleNamespace(experiment=SimpleNamespace(name=name)) for name in names]


def draw(task: str, results: dict, path: Path) -> str:
    log(path, f"drew {task} from {'+'.join(sorted(results))}")
    return f"{task} section"


def follower(task: str, needs: tuple[str, ...], path: Path) -> Follower:
    return Follower(task, needs, lambda results: (task, draw, (task, results, path), {}))


def test_in_a_worker_a_task_s_figures_are_drawn_while_other_runs_train(tmp_path):
    path = tmp_path / "events.log"
    path.touch()
    # The second group can only end once task2's figures are drawn: it would wait forever (the hang
    # guard) if figures were drawn only after all training.
    tasks = [(TRAIN, train, (["a", "b"], path), {}),
             (TRAIN, train, (["c"], path), {"wait_for": "drew task2 from a+b"})]
    results, gradients, outputs = run_tasks(tasks, 2, threading.Event(), [follower("task2", ("a", "b"), path)])
    assert events(path) == ["trained a+b", "drew task2 from a+b", "trained c"]
    assert sorted(results) == ["a", "b", "c"] and gradients is None and outputs == {"task2": "task2 section"}


def test_in_process_figures_come_right_after_their_runs(tmp_path):
    path = tmp_path / "events.log"
    tasks = [(TRAIN, train, ([name], path), {}) for name in ("a", "b", "c", "d")]
    followers = [follower("task4", ("b", "c"), path), follower("task3", ("a",), path)]
    _, _, outputs = run_tasks(tasks, 1, threading.Event(), followers)
    assert events(path) == ["trained a", "drew task3 from a", "trained b", "trained c", "drew task4 from b+c",
                            "trained d"]
    assert set(outputs) == {"task3", "task4"}


def test_a_resume_draws_the_figures_of_runs_trained_before_first(tmp_path):
    path = tmp_path / "events.log"
    finished = {"a": SimpleNamespace(experiment=SimpleNamespace(name="a"))}
    followers = [follower("task2", ("a", "b"), path), follower("task3", ("a",), path)]
    results, _, outputs = run_tasks([(TRAIN, train, (["b"], path), {})], 1, threading.Event(), followers, finished)
    assert events(path) == ["drew task3 from a", "trained b", "drew task2 from a+b"]
    assert list(results) == ["b"] and set(outputs) == {"task2", "task3"}


def test_a_stop_drops_the_figures_not_yet_drawn(tmp_path):
    path = tmp_path / "events.log"
    stop = threading.Event()

    def train_then_stop(stop_event=None):
        stop.set()  # as Ctrl-C during the group would
        return train(["a"], path)

    tasks = [(TRAIN, train_then_stop, (), {}), (TRAIN, train, (["b"], path), {})]
    results, _, outputs = run_tasks(tasks, 1, stop, [follower("task3", ("a",), path)])
    assert events(path) == ["trained a"] and list(results) == ["a"] and outputs == {}


def test_a_follower_gets_only_the_runs_it_needs(tmp_path):
    path = tmp_path / "events.log"
    seen = {}
    needs = Follower("task3", ("b",), lambda results: ("task3", partial(seen.update, results), (), {}))
    run_tasks([(TRAIN, train, (["a", "b", "c"], path), {})], 1, threading.Event(), [needs])
    assert list(seen) == ["b"]


def test_a_worker_that_dies_while_drawing_is_named_as_such():
    """The one-line error says what the dead worker was doing (here: a figure task), not always "training"."""
    import os

    from linclass.report.workers import Supervisor, WorkerDied

    supervisor = Supervisor(1, threading.Event(), grace_seconds=5.0)
    with pytest.raises(WorkerDied, match="while drawing task3's figures"):
        list(supervisor.run([("task3", os._exit, (9,), {})]))
