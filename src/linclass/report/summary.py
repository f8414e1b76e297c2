"""summary.json: every number the report quotes, measured from the finished runs, and the figures
drawn from them (figures/)."""

from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np

from .._version import __version__
from .figures import (accuracy_figure, lambda_accuracy_figure, loss_figure, norm_figure, save_figure,
                      shuffle_accuracy_figure, shuffle_loss_figure, weights_figure)
from .execute import Result
from .fidelity import against_original, seed_spread
from .findings import batch_loss_repeat, shuffle_spikes, weight_detail, zoom_limits
from .plan import BLAS_THREADS, LAMBDAS, RULES, TASKS, seed_counts


def build_summary(results: dict[str, Result], gradients: dict | None, figures: Path, *, tasks, seed, dtype, jobs,
                  max_epochs, started: float, rules: str = "linclass", seeds: int | None = None,
                  jobs_requested: int | None = None) -> dict:
    """summary.json's content: each task's numbers (drawing its figures into `figures`), the spread over
    seeds and the comparison with the original report, then the environment."""
    summary = {}
    if "task1" in tasks:
        summary["task1"] = gradients["task1"]
    for name, task in (("task2", task2), ("task3", task3), ("task4", task4)):
        if name in tasks:
            summary[name] = task(results, figures)
    summary["seed_spread"] = seed_spread(results)
    summary["against_original"] = against_original(results, summary["seed_spread"], rules)
    summary["environment"] = environment(
        tasks=tasks, seed=seed, dtype=dtype, jobs=jobs, max_epochs=max_epochs, results=results,
        gradient_seconds=gradients["wall_seconds"] if gradients else None,
        wall_seconds=time.perf_counter() - started)
    summary["environment"].update(
        rules=rules, **{f"rules_{key}": value for key, value in RULES[rules].items()},
        seeds=seeds, seeds_per_model=seed_counts(seeds), jobs_requested=jobs if jobs_requested is None else jobs_requested)
    if rules != "linclass":
        summary["environment"]["command"] += f" --rules {rules}"
    if seeds is not None:
        summary["environment"]["command"] += f" --seeds {seeds}"
    return summary


def _run(result: Result, **extra) -> dict:
    return {**result.summary, **extra}


def _stops(run: dict) -> dict:
    return {"early_stop_step": (run["early_stop"] or {}).get("step"), "best_step": run["best_step"]}


def task2(results: dict[str, Result], figures: Path) -> dict:
    plain, shuffled = results["task2_logistic_no_shuffle"], results["task2_logistic_shuffle"]
    no_shuffle, shuffle = _run(plain), _run(shuffled)
    steps_per_epoch = no_shuffle["steps_per_epoch"]
    spikes = shuffle_spikes(plain.history, shuffled.history, steps_per_epoch, no_shuffle["validate_every"] or 1)
    histories = {False: plain.history, True: shuffled.history}
    marks = {metric: {False: spikes[metric]["largest_no_shuffle"], True: spikes[metric]["largest_shuffle"]}
             for metric in ("train_loss", "val_accuracy")}
    title = "logistic regression, 2s vs 3s"
    paths = {
        "loss": save_figure(loss_figure(
            plain.history, f"Task 2b: loss of {title}, no shuffling", ylim=(0.0, 0.2), **_stops(no_shuffle)),
            figures, "task2b_loss"),
        "accuracy": save_figure(accuracy_figure(
            plain.history, f"Task 2c: accuracy of {title}, no shuffling", ylim=(0.93, 0.99),
            **_stops(no_shuffle)), figures, "task2c_accuracy"),
        "shuffle_loss": save_figure(shuffle_loss_figure(
            histories, f"Task 2e: training loss without and with shuffling\n({title})",
            steps_per_epoch=steps_per_epoch, ylim=(0.0, 0.2), spikes=marks["train_loss"]),
            figures, "task2e_shuffle_loss"),
        "shuffle_accuracy": save_figure(shuffle_accuracy_figure(
            histories, f"Task 2e: validation accuracy without and with shuffling\n({title})",
            ylim=(0.93, 0.99), spikes=marks["val_accuracy"]), figures, "task2e_shuffle_accuracy"),
    }
    return {"no_shuffle": no_shuffle, "shuffle": shuffle, "spikes": spikes,
            "batch_loss_epoch_correlation": {
                "no_shuffle": batch_loss_repeat(plain.history, steps_per_epoch),
                "shuffle": batch_loss_repeat(shuffled.history, steps_per_epoch)},
            "figures": paths}


def task3(results: dict[str, Result], figures: Path) -> dict:
    result = results["task3_softmax_lambda_0"]
    run = _run(result)
    title = "softmax regression, 10 digits"
    accuracies = [result.history.series(name)[1] for name in ("train_accuracy", "val_accuracy")]
    paths = {
        "loss": save_figure(loss_figure(
            result.history, f"Task 3b: loss of {title}", ylim=(0.2, 0.6), **_stops(run)), figures, "task3b_loss"),
        "accuracy": save_figure(accuracy_figure(
            result.history, f"Task 3c: accuracy of {title}", ylim=zoom_limits(accuracies),
            **_stops(run)), figures, "task3c_accuracy"),
    }
    return {**run, "figures": paths}


def task4(results: dict[str, Result], figures: Path) -> dict:
    reference = results["task3_softmax_lambda_0"]
    runs = {l2: results[f"task4_softmax_lambda_{l2:g}"] for l2 in LAMBDAS}
    records = [_run(result, **{"lambda": l2}) for l2, result in runs.items()]
    lambda0 = _run(reference, **{"lambda": 0.0})
    strongest = runs[max(LAMBDAS)]
    weights = {"lambda_0": reference.weights, f"lambda_{max(LAMBDAS):g}": strongest.weights}
    paths = {
        "weights": save_figure(weights_figure(
            [("λ = 0 (no L2)", reference.weights), (f"λ = {max(LAMBDAS):g}", strongest.weights)],
            f"Task 4b: softmax weights of each digit as 28x28 images (bias left out), "
            f"λ = 0 (top) and λ = {max(LAMBDAS):g} (bottom)\nred: positive weight, blue: negative; "
            "one colour scale per row"), figures, "task4b_weights"),
        "val_accuracy": save_figure(lambda_accuracy_figure(
            {l2: result.history for l2, result in sorted(runs.items())},
            "Task 4c: validation accuracy of softmax regression for four L2 strengths λ",
            ylim=zoom_limits([r.history.series("val_accuracy")[1] for r in runs.values()]),
            early_stops={r["lambda"]: (r["early_stop"] or {}).get("step") for r in records}),
            figures, "task4c_val_accuracy"),
        "weight_norm": save_figure(norm_figure(
            list(LAMBDAS), [r["weight_norm"] for r in records], [r["weight_norm_squared"] for r in records],
            "Task 4e: size of the softmax weights after training against λ\n(" + (
                "restored best weights)" if records[0]["config"]["restore_best_weights"] else "weights at the stop)"),
            reference=(lambda0["weight_norm"], lambda0["weight_norm_squared"])), figures, "task4e_weight_norm"),
    }
    return {"lambdas": list(LAMBDAS), "runs": records, "lambda0": lambda0,
            "lambda0_vs_1_weights_figure": paths["weights"],
            "weight_images": {name: {"max_abs_weight": float(np.abs(W[:-1]).max()),
                                     "detail_share": weight_detail(W)}
                              for name, W in weights.items()},
            "figures": paths}


def environment(*, tasks, seed, dtype, jobs, max_epochs, results, gradient_seconds, wall_seconds) -> dict:
    import matplotlib
    from threadpoolctl import threadpool_info

    blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture') or 'generic'})"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    command = f"linclass reproduce --seed {seed} --dtype {dtype}"
    if tuple(tasks) != TASKS:
        command += f" --only {','.join(tasks)}"
    if max_epochs is not None:
        command += f" --max-epochs-override {max_epochs}"
    return {"python": platform.python_version(), "numpy": np.__version__, "matplotlib": matplotlib.__version__,
            "linclass": __version__, "platform": platform.platform(), "blas": ", ".join(blas) or "unknown",
            "seed": seed, "dtype": dtype, "tasks": list(tasks), "jobs": jobs,
            "blas_threads_per_experiment": BLAS_THREADS, "max_epochs_override": max_epochs,
            "command": command, "wall_seconds": wall_seconds, "gradient_check_seconds": gradient_seconds,
            "experiment_seconds": {name: r.wall_seconds for name, r in results.items()},
            "lock_step_groups": sorted({r.group for r in results.values()})}
