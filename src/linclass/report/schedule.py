"""What runs when: the gradient check and the training groups in their order, and each follower (a task's
figures) as soon as the runs it needs are done, in the next free worker while the other runs still train."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .workers import CHECK, TRAIN, InProcess, Supervisor


@dataclass(frozen=True)
class Follower:
    """A task that waits for runs: once every run named in `needs` has finished, make({name: Result})
    gives the task (name, function, args, kwargs) to run."""

    name: str
    needs: tuple[str, ...]
    make: Callable[[dict], tuple]


def run_tasks(tasks: list, jobs: int, stop_event, followers=(), finished: dict | None = None
              ) -> tuple[dict, dict | None, dict]:
    """Run tasks (CHECK: the gradient check, TRAIN: a group) in `jobs` worker processes (1: in this
    one), and the followers as their runs finish; ({run name: Result}, the check's record or None,
    {follower name: its output}). finished: the results of runs trained before (a resume).

    A follower whose runs are done is handed out before the queued groups: it is short, and a worker
    that draws a figure now leaves the others training. Once stop_event is set, nothing new starts.
    """
    # Workers hear Ctrl-C and SIGTERM themselves (each saves its state); this process also passes its
    # own stop request on. A worker that dies ends the run with WorkerDied once the others have saved.
    pool = Supervisor(jobs, stop_event) if jobs > 1 else InProcess(stop_event)
    done, waiting = dict(finished or {}), list(followers)
    results, gradients, outputs = {}, None, {}
    tasks = _release(waiting, done) + list(tasks)
    for name, output in pool.run(tasks):
        if name == CHECK:
            gradients = output
        elif name == TRAIN:
            for result in output or ():  # None: stopped before the group finished
                results[result.experiment.name] = done[result.experiment.name] = result
            pool.submit(_release(waiting, done))
        else:
            outputs[name] = output
    return results, gradients, outputs


def ready_followers(followers, done: dict) -> list[Follower]:
    """The followers whose runs are all in done."""
    return [follower for follower in followers if all(name in done for name in follower.needs)]


def _release(waiting: list[Follower], done: dict) -> list:
    """The tasks of the followers whose runs have all finished; those followers leave waiting."""
    ready = ready_followers(waiting, done)
    waiting[:] = [follower for follower in waiting if follower not in ready]
    return [follower.make({name: done[name] for name in follower.needs}) for follower in ready]
