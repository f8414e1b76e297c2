"""Worker processes for `reproduce --jobs N`, supervised: a worker that dies is noticed at once (its
process sentinel), never waited for; workers stop when their parent dies; and a stop request
(Ctrl-C, SIGTERM to the parent or to the whole process group) makes every worker end its current
step and save its state before it exits.

Each worker runs tasks (name, function, args, kwargs) sent over a pipe and answers ("ok", name,
result) or ("error", name, exception). Training tasks (named TRAIN) get the worker's stop event; the
others (the gradient check, a task's figures) run to their end. A task submitted while others run is
handed out next. InProcess runs the same tasks one after the other in this process (--jobs 1).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from multiprocessing import connection, get_context

from ..errors import LinclassError

_PR_SET_PDEATHSIG = 1
TRAIN = "train"  # the name of training tasks
CHECK = "check"  # the name of the gradient check


class WorkerDied(LinclassError):
    """A worker process ended without answering (killed, e.g. by the out-of-memory killer)."""


def _die_with_parent(parent_pid: int, stop) -> threading.Event:
    """Linux: the kernel kills this process when its parent dies; elsewhere a thread checks the parent
    id. Returns an Event set by SIGINT/SIGTERM or by the parent's stop request."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        os._exit(1)  # the parent died before prctl took effect
    local_stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: local_stop.set())  # end the step, save, answer None

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            if stop.value:
                local_stop.set()
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    return local_stop


def _doing(task) -> str:
    """What a worker was doing with task (name, function, args, kwargs), for a message."""
    name = task[0] if task else None
    if name == TRAIN:
        return "training"
    if name == CHECK:
        return "checking gradients"
    return f"drawing {name}'s figures" if name else "waiting for work"


def _worker_main(conn, stop, parent_pid: int) -> None:
    local_stop = _die_with_parent(parent_pid, stop)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:  # done: every file is written; skip the interpreter's teardown (0.1-0.5 s)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        name, function, args, kwargs = task
        if name == TRAIN:
            kwargs = {**kwargs, "stop_event": local_stop}
        try:
            reply = ("ok", name, function(*args, **kwargs))
        except BaseException as exc:  # sent back to the parent, which raises it
            reply = ("error", name, exc)
        conn.send(reply)


def _describe(process) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class InProcess:
    """Tasks run one by one in this process; iterate run(tasks) for (name, result) pairs, submit() more."""

    def __init__(self, stop_event):
        self.stop_event, self.queue = stop_event, []

    def run(self, tasks: list):
        """Yield (name, result) as tasks finish; once stop_event is set, the tasks still queued are dropped."""
        self.queue = list(tasks)
        while self.queue and not self.stop_event.is_set():
            name, function, args, kwargs = self.queue.pop(0)
            kwargs = {**kwargs, "stop_event": self.stop_event} if name == TRAIN else kwargs
            yield name, function(*args, **kwargs)

    def submit(self, tasks: list) -> None:
        """Run tasks next, in their order, before the queued ones."""
        self.queue[:0] = tasks


class Supervisor:
    """Up to `jobs` worker processes running tasks; iterate run(tasks) for (name, result) pairs and
    submit() more while iterating."""

    def __init__(self, jobs: int, stop_event, grace_seconds: float = 20.0):
        self.context = get_context("spawn")  # workers start clean: no inherited BLAS or tqdm threads
        self.stop_event, self.grace_seconds = stop_event, grace_seconds
        # A lock-free flag: a worker killed while holding a lock (an Event's) would block the parent forever.
        self.worker_stop = self.context.RawValue("b", 0)
        self.workers = []
        for _ in range(jobs):
            parent_end, child_end = self.context.Pipe()
            process = self.context.Process(target=_worker_main, args=(child_end, self.worker_stop, os.getpid()),
                                           daemon=True)
            process.start()
            child_end.close()
            self.workers.append([process, parent_end, None])  # the task it runs, or None
        self.queue = []

    def run(self, tasks: list):
        """Yield (name, result) as tasks finish. Once stop_event is set, queued tasks are dropped and only
        training tasks are waited for (they save their state); a dead worker stops the rest, then raises."""
        self.queue, deadline, died, doing = list(tasks), None, None, ""
        try:
            while True:
                if self.stop_event.is_set() or died:
                    self.worker_stop.value = 1
                    self.queue.clear()
                    deadline = deadline or time.monotonic() + self.grace_seconds
                self._hand_out(self.queue)
                busy = [w for w in self.workers if w[2] is not None and (deadline is None or w[2][0] == TRAIN)]
                if not busy or (deadline is not None and time.monotonic() > deadline):
                    break
                ready = connection.wait([w[1] for w in busy] + [w[0].sentinel for w in busy], timeout=0.1)
                for worker in busy:
                    task = worker[2]
                    reply = self._reply(worker, ready)
                    if reply == "died" and not died:
                        died, doing = worker, _doing(task)
                    elif reply is not None:
                        yield reply
            if died:
                raise WorkerDied(f"a worker process (pid {died[0].pid}) ended unexpectedly ({_describe(died[0])}) "
                                 f"while {doing}; the other workers saved their state")
        finally:
            self.close()

    def submit(self, tasks: list) -> None:
        """Hand tasks out next, in their order, before the queued ones (dropped like them if a stop comes first)."""
        self.queue[:0] = tasks

    def _hand_out(self, queue: list) -> None:
        for worker in self.workers:
            if worker[2] is None and queue and worker[0].is_alive():
                worker[2] = queue.pop(0)
                worker[1].send(worker[2])

    def _reply(self, worker, ready):
        process, conn, task = worker
        if conn in ready or process.sentinel in ready:
            try:
                if not conn.poll():
                    raise EOFError
                kind, name, result = conn.recv()
            except (EOFError, OSError):
                worker[2] = None
                return "died"
            worker[2] = None
            if kind == "error":
                self.worker_stop.value = 1
                raise result
            return name, result
        return None

    def close(self) -> None:
        """Stop every worker: a polite end of input, then SIGKILL for any still running."""
        self.worker_stop.value = 1
        for process, conn, _ in self.workers:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
        for process, conn, task in self.workers:
            process.join(timeout=self.grace_seconds if task is not None else 2.0)
            if process.is_alive():
                process.kill()
                process.join()
            conn.close()
