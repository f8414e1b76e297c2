"""linclass reproduce: every artefact, the summary's shape, self-contained reports, determinism."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from linclass.training import History
from linclass.cli import main
from linclass.runs import RunConfig, make_split, summarize, train
from linclass.report.findings import local_spikes, shuffle_spikes, zoom_limits
from linclass.report.figures import windowed_mean
from linclass.report import parse_tasks
from linclass.runs import load_run

REDUCED_EPOCHS = 2
FIGURES = {
    "task2": ["task2b_loss", "task2c_accuracy", "task2e_shuffle_accuracy", "task2e_shuffle_loss"],
    "task3": ["task3b_loss", "task3c_accuracy"],
    "task4": ["task4b_weights", "task4c_val_accuracy", "task4e_weight_norm"],
}
RUNS = ["task2_logistic_no_shuffle", "task2_logistic_shuffle", "task3_softmax_lambda_0",
        "task4_softmax_lambda_0.001", "task4_softmax_lambda_0.01", "task4_softmax_lambda_0.1",
        "task4_softmax_lambda_1"]
# The extra seeds of task 2's shuffled run, for the spread over seeds (plan.DEFAULT_SEEDS).
SEED_RUNS = [f"task2_logistic_shuffle_seed{seed}" for seed in range(1, 20)]


def reproduce(out, mnist_dir, *options, reduced=True) -> int:
    extra = ["--max-epochs-override", str(REDUCED_EPOCHS)] if reduced else []
    return main(["reproduce", "--out", str(out), "--data-dir", str(mnist_dir), "--no-progress", *extra, *options])


@pytest.fixture(scope="module")
def reduced_out(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("reproduce") / "out"
    assert reproduce(out, mnist_dir) == 0
    return out


# ---------------------------------------------------------------- the shape of summary.json

class Nullable:
    def __init__(self, shape):
        self.shape = shape


METRICS = {"train_loss": float, "val_loss": float, "train_accuracy": float, "val_accuracy": float}
RUN = {"early_stop": Nullable({"step": int, "epoch": int}), "steps": int, "at_stop": METRICS, "best": METRICS,
       "weight_norm": float, "weight_norm_squared": float}
GRADIENTS = {"max_abs_diff": float, "l2_max_abs_diff": float}
SUMMARY = {
    "task1": {"logistic": GRADIENTS, "softmax": GRADIENTS},
    "task2": {"no_shuffle": RUN, "shuffle": RUN},
    "task3": RUN,
    "task4": {"lambdas": [float], "runs": [{**RUN, "lambda": float}], "lambda0_vs_1_weights_figure": str},
    "environment": {"python": str, "numpy": str, "seed": int, "dtype": str, "wall_seconds": float},
}


def shape_errors(value, shape, path="summary") -> list[str]:
    """Where value does not match shape: dicts need at least the listed keys, [x] is a list of x."""
    if isinstance(shape, Nullable):
        return [] if value is None else shape_errors(value, shape.shape, path)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        return [error for key, inner in shape.items()
                for error in (shape_errors(value[key], inner, f"{path}.{key}") if key in value
                              else [f"{path}: missing key {key!r}"])]
    if isinstance(shape, list):
        if not isinstance(value, list) or not value:
            return [f"{path}: expected a non-empty list, got {value!r}"]
        return [error for i, item in enumerate(value) for error in shape_errors(item, shape[0], f"{path}[{i}]")]
    if shape is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
    elif shape is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, shape)
    return [] if ok else [f"{path}: expected {shape.__name__}, got {value!r}"]


def test_shape_checker_catches_mistakes():
    assert shape_errors({"a": {"b": 1}}, {"a": {"b": int}}) == []
    assert shape_errors({"a": {"b": 1.5}}, {"a": {"b": int}}) == ["summary.a.b: expected int, got 1.5"]
    assert shape_errors({"a": {}}, {"a": {"b": int}}) == ["summary.a: missing key 'b'"]
    assert shape_errors({"a": [True]}, {"a": [int]}) == ["summary.a[0]: expected int, got True"]
    assert shape_errors({"a": None}, {"a": Nullable({"b": int})}) == []


# ---------------------------------------------------------------- the reduced reproduction

def test_writes_every_artefact(reduced_out):
    assert {p.name for p in reduced_out.iterdir()} == {"summary.json", "report.md", "report.html", "figures", "runs", "status.json"}
    assert json.loads((reduced_out / "status.json").read_text())["state"] == "complete"
    stems = [stem for task in FIGURES.values() for stem in task]
    assert sorted(p.name for p in (reduced_out / "figures").iterdir()) == sorted(
        [f"{stem}.{ext}" for stem in stems for ext in ("png", "svg")] + ["task4_interactive.html"])
    assert sorted(p.name for p in (reduced_out / "runs").iterdir()) == sorted(RUNS + SEED_RUNS)
    for name in RUNS + SEED_RUNS[:1]:
        config, model, metrics = load_run(reduced_out / "runs" / name)
        assert config.max_epochs == REDUCED_EPOCHS and metrics["steps"] == len(model.history_.train_loss_per_step)


def test_summary_has_the_issue_shape(reduced_out):
    summary = json.loads((reduced_out / "summary.json").read_text())
    assert shape_errors(summary, SUMMARY) == []
    task4 = summary["task4"]
    assert task4["lambdas"] == [1.0, 0.1, 0.01, 0.001]
    assert [run["lambda"] for run in task4["runs"]] == task4["lambdas"]
    assert (reduced_out / task4["lambda0_vs_1_weights_figure"]).is_file()
    assert summary["task1"]["logistic"]["max_abs_diff"] < 1e-6 and summary["task1"]["softmax"]["passed"]
    assert summary["environment"]["max_epochs_override"] == REDUCED_EPOCHS
    # Each RUN is its run folder's metrics.
    metrics = json.loads((reduced_out / summary["task3"]["run_dir"] / "metrics.json").read_text())
    assert metrics["best"] == summary["task3"]["best"] and metrics["steps"] == summary["task3"]["steps"]


def test_report_md_references_every_figure(reduced_out):
    text = (reduced_out / "report.md").read_text()
    referenced = set(re.findall(r"\]\(([^)]+)\)", text))
    pngs = {f"figures/{p.name}" for p in (reduced_out / "figures").glob("*.png")}
    assert pngs <= referenced
    assert all((reduced_out / path).is_file() for path in referenced)
    assert "MNIST test set" in text and "Reduced configuration" in text
    for heading in ("Task 1", "Task 2b", "Task 2c", "Task 2d", "Task 2e", "Task 3b", "Task 3c",
                    "Task 4b", "Task 4c", "Task 4d", "Task 4e"):
        assert f"# {heading}" in text
    t1 = json.loads((reduced_out / "summary.json").read_text())["task1"]
    assert (f"on the {t1['logistic']['n_images_checked']} 2s and 3s (task 2's pair) among the first "
            f"{t1['n_pair_candidate_images']} training images, and the first {t1['softmax']['n_images_checked']} "
            "training images for the ten-class task") in text


def test_report_html_is_self_contained(reduced_out):
    text = (reduced_out / "report.html").read_text()
    sources = re.findall(r'<img[^>]* src="([^"]*)"', text)
    assert len(sources) == len(list((reduced_out / "figures").glob("*.png")))
    assert all(source.startswith("data:image/png;base64,") for source in sources)
    assert not re.search(r'(src|href)="(?!data:|#)', text)  # only embedded images and links within the page


def test_jobs_do_not_change_a_single_number(reduced_out, mnist_dir, tmp_path):
    out = tmp_path / "jobs2"
    assert reproduce(out, mnist_dir, "--jobs", "2") == 0
    one, two = (json.loads((folder / "summary.json").read_text()) for folder in (reduced_out, out))
    assert one.pop("environment")["jobs"] == 1 and two.pop("environment")["jobs"] == 2
    assert one == two
    for name in RUNS:
        first, second = reduced_out / "runs" / name, out / "runs" / name
        assert (first / "history.json").read_bytes() == (second / "history.json").read_bytes()
        with np.load(first / "weights.npz") as a, np.load(second / "weights.npz") as b:
            assert np.array_equal(a["weights"], b["weights"])
    # Drawn in this process (--jobs 1) or in a worker (--jobs 2): the same bytes.
    figures = sorted(p.name for p in (reduced_out / "figures").iterdir())
    assert figures == sorted(p.name for p in (out / "figures").iterdir())
    for name in figures:
        assert (reduced_out / "figures" / name).read_bytes() == (out / "figures" / name).read_bytes(), name


def test_a_task_s_figures_are_drawn_as_soon_as_its_runs_are_done(mnist_dir, tmp_path, capsys):
    out = tmp_path / "early"
    assert main(["reproduce", "--out", str(out), "--data-dir", str(mnist_dir), "--max-epochs-override", "1",
                 "--only", "task2", "--jobs", "1"]) == 0
    lines = capsys.readouterr().err.splitlines()
    drawn = next(i for i, line in enumerate(lines) if line.startswith("task2 figures: drawn"))
    trained = [i for i, line in enumerate(lines) if "] done in" in line]
    # Task 2's figures need its two runs only: drawn after them, before the 19 extra seeds train.
    assert trained[1] < drawn < trained[2] and len(trained) == 2 + len(SEED_RUNS)
    assert "seed 1: started" in lines[drawn + 1]


def test_only_task2_writes_only_task2(mnist_dir, tmp_path):
    out = tmp_path / "only"
    assert reproduce(out, mnist_dir, "--only", "task2") == 0
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"task2", "dataset", "seed_spread", "against_original", "environment"}
    assert summary["environment"]["tasks"] == ["task2"]
    assert sorted(p.stem for p in (out / "figures").glob("*.png")) == sorted(FIGURES["task2"])
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(RUNS[:2] + SEED_RUNS)
    text = (out / "report.md").read_text()
    assert "Task 2e" in text and "Task 3" not in text and "Task 1" not in text
    assert text.startswith("# Logistic regression on MNIST: TDT4265 assignment 1, reproduced\n")
    # Nothing speaks of the tasks that did not run: no softmax model, task 1's weights or their summary keys.
    assert not re.search(r"tasks? [134]\b|task1|task3|task4|softmax runs|weight images", text), \
        re.search(r".{60}(tasks? [134]\b|task1|task3|task4|softmax runs|weight images).{60}", text).group(0)


def test_existing_out_is_refused(mnist_dir, tmp_path, capsys):
    out = tmp_path / "exists"
    out.mkdir()
    assert reproduce(out, mnist_dir) == 2
    error = capsys.readouterr().err
    assert "already exists" in error and "--force" in error and "Traceback" not in error
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("only", ["task5", "", "task1,,nope"])
def test_bad_only_is_one_line_exit_2(only, mnist_dir, tmp_path, capsys):
    assert reproduce(tmp_path / "x", mnist_dir, "--only", only) == 2
    error = capsys.readouterr().err
    assert "--only" in error and error.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_parse_tasks_keeps_report_order():
    assert parse_tasks("task4, task2,task4") == ("task2", "task4")
    assert parse_tasks(None) == ("task1", "task2", "task3", "task4")


# ---------------------------------------------------------------- the full task 2 regression

def test_full_logistic_run_matches_the_core_regression(mnist_dir, mnist, tmp_path):
    out = tmp_path / "task2"
    assert reproduce(out, mnist_dir, "--only", "task2", reduced=False) == 0
    run = json.loads((out / "summary.json").read_text())["task2"]["no_shuffle"]
    assert run["early_stop"] == {"step": 1038, "epoch": 33}
    assert run["steps"] == 1039 and run["best_step"] == 978
    config = RunConfig(model="logistic")
    direct = summarize(train(config, make_split(config.resolved(), mnist)))
    for key in ("at_stop", "best"):
        for name, value in direct[key].items():
            assert run[key][name] == pytest.approx(value, abs=1e-12), (key, name)
    assert run["weight_norm"] == pytest.approx(direct["weight_norm"], abs=1e-12)
    report = (out / "report.md").read_text()
    assert "fires at step 1038, in epoch 33" in report


# ---------------------------------------------------------------- the measured findings

def test_spikes_are_measured_against_the_running_median():
    steps = np.arange(0, 60, 6)
    values = np.linspace(0.9, 0.95, 10)
    values[5] -= 0.05  # one dip
    found_steps, sizes = local_spikes(steps, values, peaks=False)
    assert found_steps[np.argmax(sizes)] == 30 and 0.04 < sizes.max() < 0.06
    assert np.sort(sizes)[-2] < 0.01  # the trend itself is no spike


def test_shuffle_spikes_find_a_recurring_batch():
    steps_per_epoch, every = 31, 6
    steps = np.arange(0, 40 * steps_per_epoch, every)
    smooth = 0.95 + 0.0001 * np.sin(steps)
    spiky = smooth.copy()
    spiky[steps % steps_per_epoch == 18] -= 0.03
    make = lambda acc: History({}, {int(s): {"train_loss": 1 - a, "val_loss": 1 - a, "val_accuracy": a}
                                    for s, a in zip(steps, acc)})
    result = shuffle_spikes(make(spiky), make(smooth), steps_per_epoch, every)["val_accuracy"]
    over = result["no_shuffle_larger_than_shuffle_largest"]
    assert over["most_common_batch"] == 18 and over["most_common_gaps"] == [186]
    assert result["largest_no_shuffle"]["size"] == pytest.approx(0.03, abs=1e-3)


def test_windowed_mean_and_zoom():
    centres, mean, std = windowed_mean(np.arange(25), np.arange(25.0), window=10)
    assert centres.tolist() == [5, 15] and mean.tolist() == [4.5, 14.5]
    assert std[0] == pytest.approx(np.std(np.arange(10)))
    assert zoom_limits([np.array([0.5, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.985, 0.99])]) == (0.91, 0.99)
