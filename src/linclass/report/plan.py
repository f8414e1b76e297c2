"""The course report's plan: its tasks, the training runs they need, and how the runs are grouped
into lock-step groups and shared out over worker processes."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace

from ..errors import LinclassError
from ..runs import MODEL_DEFAULTS, RunConfig

TASKS = ("task1", "task2", "task3", "task4")
LAMBDAS = (1.0, 0.1, 0.01, 0.001)  # summary.json's order; the report's tables sort them ascending
BLAS_THREADS = 1
# The early-stopping rules a reproduction runs under: ours, or those of the original assignment code
# (best validation loss starting at 1.0, weights at the stop kept, the final weights' metrics quoted).
RULES = {"linclass": {"early_stopping_baseline": None, "restore_best_weights": True},
         "original": {"early_stopping_baseline": 1.0, "restore_best_weights": False}}
# Seeds per shuffled experiment when --seeds is not given: a binary run costs well under a second,
# a softmax lock-step group tens of seconds, so only task 2 gets a seed spread by default.
DEFAULT_SEEDS = {"logistic": 20, "softmax": 1}
MAX_TITLES = 5  # a group with more runs (a sweep's) is named by its size in progress lines
MAX_NAME_CHARS = 150  # file names stay well below the usual limit of 255 bytes


@dataclass(frozen=True)
class Experiment:
    """One training run of the report: its folder name under runs/, a title, its resolved config."""

    name: str
    title: str
    config: RunConfig
    tasks: tuple[str, ...]  # the tasks whose answers use this run
    spread_of: str | None = None  # an extra seed of this experiment, for the spread over seeds


def seed_counts(seeds: int | None) -> dict[str, int]:
    """Seeds per shuffled experiment of each model: --seeds N for every model, else DEFAULT_SEEDS."""
    return dict(DEFAULT_SEEDS) if seeds is None else {model: seeds for model in DEFAULT_SEEDS}


def parse_tasks(text: str | None) -> tuple[str, ...]:
    """'task2,task4' -> ('task2', 'task4') in report order; None means every task."""
    if text is None:
        return TASKS
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in TASKS]
    if not names or unknown:
        raise LinclassError(f"--only takes a comma-separated list of {', '.join(TASKS)}; got {text!r}.")
    return tuple(task for task in TASKS if task in names)


def plan_experiments(tasks: tuple[str, ...], *, seed: int = 0, dtype: str = "float64",
                     max_epochs: int | None = None, rules: str = "linclass", seeds: int | None = None,
                     dataset: str = "mnist", protocol: str = "assignment", train_size: int = 20000,
                     classes: tuple[int, int] | None = None) -> list[Experiment]:
    """The training runs the given tasks need, in report order (task 4b reuses task 3's lambda-0 run),
    then the extra seeds of each shuffled one (seed + 1, seed + 2, ...; see seed_counts).

    classes: task 2's pair (default: the dataset's)."""
    def config(**values) -> RunConfig:
        epochs = MODEL_DEFAULTS[values["model"]]["max_epochs"]
        cap = epochs if max_epochs is None else min(epochs, max_epochs)
        pair = {"classes": classes} if values["model"] == "logistic" else {}
        return RunConfig(seed=seed, dtype=dtype, max_epochs=cap, dataset=dataset, protocol=protocol,
                         train_size=train_size, **RULES[rules], **pair, **values).resolved()

    plan = []
    if "task2" in tasks:
        plan.append(Experiment("task2_logistic_no_shuffle", "task 2 logistic, no shuffle",
                               config(model="logistic", shuffle=False), ("task2",)))
        plan.append(Experiment("task2_logistic_shuffle", "task 2 logistic, shuffle",
                               config(model="logistic", shuffle=True), ("task2",)))
    if "task3" in tasks or "task4" in tasks:
        users = tuple(task for task in ("task3", "task4") if task in tasks)
        plan.append(Experiment("task3_softmax_lambda_0", "task 3 softmax, lambda 0",
                               config(model="softmax", l2_strength=0.0), users))
    if "task4" in tasks:
        for l2 in LAMBDAS:
            plan.append(Experiment(f"task4_softmax_lambda_{l2:g}", f"task 4 softmax, lambda {l2:g}",
                                   config(model="softmax", l2_strength=l2), ("task4",)))
    return plan + [Experiment(f"{e.name}_seed{e.config.seed + k}", f"{e.title}, seed {e.config.seed + k}",
                              replace(e.config, seed=e.config.seed + k).resolved(), e.tasks, spread_of=e.name)
                   for e in plan if e.config.shuffle for k in range(1, seed_counts(seeds)[e.config.model])]


def section_runs(task: str, experiments: list[Experiment]) -> tuple[str, ...]:
    """The runs task's section of summary.json (its numbers and figures) is made from: the runs planned
    for the task, without their extra seeds (those feed only the spread over seeds). Task 4 needs task 3's
    lambda-0 run too; task 1 (the gradient check) needs none."""
    return tuple(e.name for e in experiments if task in e.tasks and e.spread_of is None)


def group_experiments(experiments: list[Experiment], jobs: int) -> list[list[Experiment]]:
    """Experiments that differ only in L2 form lock-step groups, split into at most `jobs` parts
    (alternating, weakest penalty first, so the long runs spread over the processes)."""
    families: dict[RunConfig, list[Experiment]] = {}
    for experiment in experiments:
        families.setdefault(replace(experiment.config, l2_strength=0.0), []).append(experiment)
    groups = []
    for family in families.values():
        family = sorted(family, key=lambda e: e.config.l2_strength)
        parts = min(jobs, len(family))
        groups.extend(family[i::parts] for i in range(parts))
    return groups


def effective_jobs(requested: int, n_experiments: int) -> int:
    """Worker processes to use: at most one per experiment and one per CPU core (BLAS uses one thread)."""
    return max(1, min(requested, n_experiments, os.cpu_count() or 1))


def group_titles(experiments: list[Experiment]) -> str:
    """The group's titles, or for a big group (a sweep's) its size, first and last."""
    if len(experiments) <= MAX_TITLES:
        return ", ".join(e.title for e in experiments)
    return f"{len(experiments)} runs in lock-step ({experiments[0].title} ... {experiments[-1].title})"


def checkpoint_name(experiments: list[Experiment]) -> str:
    """The folder of a group's saved trainer state: its names joined, or, when that would make too long a
    file name (a sweep's groups), the first name, the count and a digest of all names."""
    joined = "+".join(e.name for e in experiments)
    if len(joined) <= MAX_NAME_CHARS:
        return ".checkpoint-" + joined
    digest = hashlib.sha256(joined.encode()).hexdigest()[:12]
    return f".checkpoint-{experiments[0].name}+{len(experiments) - 1}-more-{digest}"
