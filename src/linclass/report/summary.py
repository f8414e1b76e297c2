"""summary.json: every number the report quotes, measured from the finished runs, and the figures
drawn from them (figures/). Each task's section is made as soon as its runs are done (section())."""

from __future__ import annotations

import platform
import time
from functools import partial
from importlib.metadata import version
from pathlib import Path

import numpy as np

from .._version import __version__
from ..data import dataset_source
from ..preprocess import HOLDOUT_START
from .figures import (accuracy_figure, lambda_accuracy_figure, loss_figure, norm_figure, save_figure,
                      shuffle_accuracy_figure, shuffle_loss_figure, weights_figure)
from .data_cache import release as release_data
from .fidelity import against_original, seed_spread
from .findings import batch_loss_repeat, confused_pairs, loss_limits, shuffle_spikes, weight_detail, zoom_limits
from .finish import Result
from .gradient_check import say
from .interactive import task4_widgets
from .plan import BLAS_THREADS, LAMBDAS, RULES, TASKS, section_runs, seed_counts
from .schedule import Follower
from .sections_data import block_is_digits


MNIST_SETTINGS = {"dataset": "mnist", "protocol": "assignment", "train_size": 20000, "classes": [2, 3]}


def build_summary(results: dict[str, Result], gradients: dict | None, sections: dict[str, dict], *, tasks, seed,
                  dtype, jobs, max_epochs, started: float, rules: str = "linclass", seeds: int | None = None,
                  jobs_requested: int | None = None, settings: dict | None = None) -> dict:
    """summary.json's content: each task's numbers (sections: {task: section()}), the spread over seeds
    and, on MNIST under the assignment's protocol, the comparison with the original report; then the
    environment."""
    data = dataset_block(settings or MNIST_SETTINGS)
    summary = {}
    if "task1" in tasks:
        summary["task1"] = gradients["task1"]
    for name in SECTIONS:
        if name in tasks:
            summary[name] = sections[name]
    summary["dataset"] = data
    summary["seed_spread"] = seed_spread(results)
    # The original report's numbers are for MNIST under the assignment's protocol only.
    original_setting = data["name"] == "mnist" and data["protocol"] == "assignment"
    summary["against_original"] = (against_original(results, summary["seed_spread"], rules)
                                   if original_setting else None)
    summary["environment"] = environment(
        tasks=tasks, seed=seed, dtype=dtype, jobs=jobs, max_epochs=max_epochs, results=results,
        gradient_seconds=gradients["wall_seconds"] if gradients else None,
        wall_seconds=time.perf_counter() - started, data=data)
    summary["environment"].update(
        rules=rules, **{f"rules_{key}": value for key, value in RULES[rules].items()},
        seeds=seeds, seeds_per_model=seed_counts(seeds), jobs_requested=jobs if jobs_requested is None else jobs_requested)
    if rules != "linclass":
        summary["environment"]["command"] += f" --rules {rules}"
    if seeds is not None:
        summary["environment"]["command"] += f" --seeds {seeds}"
    return summary


def section_followers(tasks, experiments, figures: Path, data: dict, data_dir: str | None,
                      progress: bool = False) -> list[Follower]:
    """One follower per task with a section: section() of its runs (plan.section_runs), run once they are done."""
    return [Follower(task, section_runs(task, experiments),
                     partial(_section_task, task, figures, data, data_dir, progress))
            for task in SECTIONS if task in tasks]


def _section_task(task, figures, data, data_dir, progress, results) -> tuple:
    return task, section, (task, results, figures, data, data_dir), {"progress": progress}


def section(task: str, results: dict[str, Result], figures: Path, data: dict, data_dir: str | None = None, *,
            progress: bool = False) -> dict:
    """Task's section of summary.json from its runs' results, drawing its figures into `figures` (for task 4
    its two linked widgets too). data: dataset_block()."""
    started = time.perf_counter()
    release_data()  # this process's training data: not held while matplotlib draws
    record = SECTIONS[task](results, figures, data)
    if task == "task4":  # MNIST's widgets take drawings too; other datasets' take their test images
        record["figures"]["interactive"] = task4_widgets(figures, results, data_dir, data)
    say(progress, f"{task} figures: drawn in {time.perf_counter() - started:.1f} s")
    return record


def dataset_block(settings: dict) -> dict:
    """What the report says about its data: the dataset, its class names, task 2's pair, the protocol."""
    source = dataset_source(settings["dataset"])
    first, second = settings["classes"]
    return {"name": source.name, "title": source.title, "class_names": list(source.class_names),
            "class_word": source.class_word, "protocol": settings["protocol"], "train_size": settings["train_size"],
            "n_training_images": source.files["train_labels"].shape[0],
            "n_test_images": source.files["test_labels"].shape[0], "holdout_first_image": HOLDOUT_START,
            "pair": {"classes": [first, second], "labels": [source.class_label(first), source.class_label(second)],
                     "is_default": (first, second) == source.default_classes},
            "published_logistic_test_accuracy": source.published_logistic_test_accuracy,
            "published_baseline_source": source.published_baseline_source}


def _pair_title(data: dict) -> str:
    """'2s vs 3s' on MNIST; 'Shirt vs T-shirt/top' elsewhere."""
    first, second = data["pair"]["classes"]
    return f"{first}s vs {second}s" if block_is_digits(data) else " vs ".join(data["pair"]["labels"])


def _ten_title(data: dict) -> str:
    return "10 digits" if block_is_digits(data) else f"the 10 classes of {data['title']}"


def _run(result: Result, **extra) -> dict:
    return {**result.summary, **extra}


def _stops(run: dict) -> dict:
    return {"early_stop_step": (run["early_stop"] or {}).get("step"), "best_step": run["best_step"],
            "best_kept": run["config"].get("restore_best_weights", True)}


def task2(results: dict[str, Result], figures: Path, data: dict) -> dict:
    plain, shuffled = results["task2_logistic_no_shuffle"], results["task2_logistic_shuffle"]
    no_shuffle, shuffle = _run(plain), _run(shuffled)
    steps_per_epoch = no_shuffle["steps_per_epoch"]
    spikes = shuffle_spikes(plain.history, shuffled.history, steps_per_epoch, no_shuffle["validate_every"] or 1)
    histories = {False: plain.history, True: shuffled.history}
    marks = {metric: {False: spikes[metric]["largest_no_shuffle"], True: spikes[metric]["largest_shuffle"]}
             for metric in ("train_loss", "val_accuracy")}
    title = f"logistic regression, {_pair_title(data)}"
    legend = {} if data["name"] == "mnist" else {"legend_loc": "below"}  # noisier curves fill the plot
    accuracies = [h.history.series(m)[1] for h in (plain, shuffled) for m in ("train_accuracy", "val_accuracy")]
    if data["name"] == "mnist":  # the course report's zoom, raised when a curve goes above 0.99 (few images)
        ylim = {"loss": (0.0, 0.2), "accuracy": (0.93, max(0.99, zoom_limits(accuracies)[1]))}
    else:
        ylim = {"loss": loss_limits([plain.history.series(m)[1] for m in ("train_loss", "val_loss")]),
                "accuracy": zoom_limits(accuracies, quantile=0.02)}
    paths = {
        "loss": save_figure(loss_figure(
            plain.history, f"Task 2b: loss of {title}, no shuffling", ylim=ylim["loss"], **_stops(no_shuffle)),
            figures, "task2b_loss"),
        "accuracy": save_figure(accuracy_figure(
            plain.history, f"Task 2c: accuracy of {title}, no shuffling", ylim=ylim["accuracy"],
            **_stops(no_shuffle), **legend), figures, "task2c_accuracy"),
        "shuffle_loss": save_figure(shuffle_loss_figure(
            histories, f"Task 2e: training loss without and with shuffling\n({title})",
            steps_per_epoch=steps_per_epoch, ylim=ylim["loss"], spikes=marks["train_loss"]),
            figures, "task2e_shuffle_loss"),
        "shuffle_accuracy": save_figure(shuffle_accuracy_figure(
            histories, f"Task 2e: validation accuracy without and with shuffling\n({title})",
            ylim=ylim["accuracy"], spikes=marks["val_accuracy"], **legend), figures, "task2e_shuffle_accuracy"),
    }
    return {"no_shuffle": no_shuffle, "shuffle": shuffle, "spikes": spikes, "ylim": ylim,
            "batch_loss_epoch_correlation": {
                "no_shuffle": batch_loss_repeat(plain.history, steps_per_epoch),
                "shuffle": batch_loss_repeat(shuffled.history, steps_per_epoch)},
            "figures": paths}


def task3(results: dict[str, Result], figures: Path, data: dict) -> dict:
    result = results["task3_softmax_lambda_0"]
    run = _run(result)
    title = f"softmax regression, {_ten_title(data)}"
    accuracies = [result.history.series(name)[1] for name in ("train_accuracy", "val_accuracy")]
    loss_ylim = (0.2, 0.6) if data["name"] == "mnist" else loss_limits(
        [result.history.series(m)[1] for m in ("train_loss", "val_loss")])
    paths = {
        "loss": save_figure(loss_figure(
            result.history, f"Task 3b: loss of {title}", ylim=loss_ylim, **_stops(run)), figures, "task3b_loss"),
        "accuracy": save_figure(accuracy_figure(
            result.history, f"Task 3c: accuracy of {title}", ylim=zoom_limits(accuracies),
            **_stops(run)), figures, "task3c_accuracy"),
    }
    pairs = confused_pairs(run["val_confusion"], data["class_names"], top=45) if "val_confusion" in run else []
    pair = sorted(data["pair"]["classes"])
    rank = next((i for i, p in enumerate(pairs) if p["classes"] == pair), None)
    return {**run, "figures": paths, "loss_ylim": list(loss_ylim), "most_confused_pairs": pairs[:5],
            "task2_pair_confusion": None if rank is None else {**pairs[rank], "rank": rank + 1, "of": len(pairs)}}


def task4(results: dict[str, Result], figures: Path, data: dict) -> dict:
    reference = results["task3_softmax_lambda_0"]
    runs = {l2: results[f"task4_softmax_lambda_{l2:g}"] for l2 in LAMBDAS}
    records = [_run(result, **{"lambda": l2}) for l2, result in runs.items()]
    lambda0 = _run(reference, **{"lambda": 0.0})
    strongest = runs[max(LAMBDAS)]
    weights = {"lambda_0": reference.weights, f"lambda_{max(LAMBDAS):g}": strongest.weights}
    paths = {
        "weights": save_figure(weights_figure(
            [("λ = 0 (no L2)", reference.weights), (f"λ = {max(LAMBDAS):g}", strongest.weights)],
            f"Task 4b: softmax weights of each {'digit' if block_is_digits(data) else 'class'} as 28x28 "
            "images (bias left out), "
            f"λ = 0 (top) and λ = {max(LAMBDAS):g} (bottom)\nred: positive weight, blue: negative; "
            "one colour scale per row", [_short(name, data) for name in data["class_names"]]),
            figures, "task4b_weights"),
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


SECTIONS = {"task2": task2, "task3": task3, "task4": task4}  # the tasks with figures, in report order


def _short(name: str, data: dict) -> str:
    return f"digit {name}" if block_is_digits(data) else name


def environment(*, tasks, seed, dtype, jobs, max_epochs, results, gradient_seconds, wall_seconds, data=None) -> dict:
    from threadpoolctl import threadpool_info

    blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture') or 'generic'})"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    command = f"linclass reproduce --seed {seed} --dtype {dtype}"
    data = data or dataset_block(MNIST_SETTINGS)
    if data["name"] != "mnist":
        command += f" --dataset {data['name']}"
    if not data["pair"]["is_default"]:
        command += " --classes " + " ".join(str(c) for c in data["pair"]["classes"])
    if data["protocol"] != "assignment":
        command += f" --protocol {data['protocol']}"
    if data["train_size"] != 20000:
        command += f" --train-size {data['train_size']}"
    if tuple(tasks) != TASKS:
        command += f" --only {','.join(tasks)}"
    if max_epochs is not None:
        command += f" --max-epochs-override {max_epochs}"
    return {"python": platform.python_version(), "numpy": np.__version__, "matplotlib": version("matplotlib"),
            "linclass": __version__, "platform": platform.platform(), "blas": ", ".join(blas) or "unknown",
            "seed": seed, "dtype": dtype, "tasks": list(tasks), "jobs": jobs,
            "blas_threads_per_experiment": BLAS_THREADS, "max_epochs_override": max_epochs,
            "command": command, "wall_seconds": wall_seconds, "gradient_check_seconds": gradient_seconds,
            "experiment_seconds": {name: r.wall_seconds for name, r in results.items()},
            "lock_step_groups": sorted({r.group for r in results.values()})}
