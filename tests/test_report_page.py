"""The report page (issue 9 section 4) and its "Against the original report" section (issue 11):
contents links, results at a glance, λ order, figure text sizes, the numbers quoted against summary.json."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from linclass.cli import main
from linclass.report.figures import (MIN_TEXT_PX, accuracy_figure, displayed_text_px, lambda_accuracy_figure,
                                     loss_figure, norm_figure, shuffle_accuracy_figure, shuffle_loss_figure,
                                     weights_figure)
from linclass.report.glance import glance_rows
from linclass.report.sections_original import this_run_text, where
from linclass.training import History

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def original_out(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("original") / "out"
    assert main(["reproduce", "--out", str(out), "--data-dir", str(mnist_dir), "--no-progress", "--rules", "original",
                 "--seeds", "2", "--max-epochs-override", "2"]) == 0
    return out


def read(out):
    return json.loads((out / "summary.json").read_text()), (out / "report.md").read_text(), (out / "report.html").read_text()


def table_after(markdown: str, heading: str) -> list[list[str]]:
    """The cells of the first table after a heading of report.md."""
    lines = markdown.split(f"# {heading}\n", 1)[1].splitlines()
    rows = [line for line in lines[lines.index(next(l for l in lines if l.startswith("|"))):]]
    rows = rows[:next(i for i, line in enumerate(rows) if not line.startswith("|"))]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows[2:]]


def test_against_original_quotes_summary_json(original_out):
    summary, markdown, _ = read(original_out)
    rows = summary["against_original"]
    assert summary["environment"]["rules"] == "original" and "**original's rules**" in markdown
    assert [row["experiment"] for row in rows] == [name for name in (
        "task2_logistic_no_shuffle", "task2_logistic_shuffle", "task4_softmax_lambda_0.001",
        "task4_softmax_lambda_0.01", "task4_softmax_lambda_0.1", "task4_softmax_lambda_1")]
    table = table_after(markdown, "Against the original report")
    assert len(table) == len(rows)
    for cells, row in zip(table, rows):
        run = summary["task2" if row["task"] == "2d" else "task4"]
        assert cells[1] == where(row["original"], row["original"]) and cells[2] == this_run_text(row)
        stop = (run["shuffle" if row["shuffled"] else "no_shuffle"] if row["task"] == "2d"
                else next(r for r in run["runs"] if f"λ = {r['lambda']:g}" in row["setting"]))
        assert row["this_run"]["step"] == (stop["early_stop"] or {}).get("step", stop["steps"] - 1)
        spread = summary["seed_spread"].get(row["experiment"])
        if row["shuffled"]:
            assert spread["n_seeds"] == 2 and f"steps {spread['step']['min']} / " in cells[3]
    assert "--rules original" in summary["environment"]["command"]


def test_original_rules_quote_the_final_weights(original_out):
    summary, markdown, _ = read(original_out)
    run = summary["task2"]["no_shuffle"]
    assert run["config"]["early_stopping_baseline"] == 1.0 and run["config"]["restore_best_weights"] is False
    row = next(cells for cells in table_after(markdown, "Task 2d: early stopping") if cells[0] == "no shuffling")
    assert row[2] == str(run["steps"] - 1) and row[6] == f"{run['final_weights']['val_accuracy']:.4f}"


def test_contents_links_resolve_and_glance_matches_summary(original_out):
    summary, markdown, page = read(original_out)
    ids = set(re.findall(r'<h[23] id="([^"]+)"', page))
    links = re.findall(r'<a href="#([^"]+)"', page)
    assert links and set(links) <= ids and len(ids) == len(re.findall(r"<h[23]", page))
    for heading in ("Results at a glance", "Against the original report", "Task 4c"):
        assert heading in page.split("</nav>")[0]
    table = table_after(markdown, "Results at a glance")
    assert table == [[str(cell) for cell in row] for row in glance_rows(summary)]
    lambda1 = next(r for r in summary["task4"]["runs"] if r["lambda"] == 1.0)
    assert f"validation accuracy {lambda1['final_weights']['val_accuracy']:.4f}" in table[-1][2]


def test_task4_tables_list_lambda_ascending(original_out):
    _, markdown, _ = read(original_out)
    for heading in ("Task 4c: validation accuracy for four values of λ", "Task 4e: the size of the weights against λ"):
        labels = [row[0] for row in table_after(markdown, heading)]
        values = [float(re.search(r"λ = ([\d.]+)", label).group(1)) for label in labels]
        assert values == sorted(values) and values[-1] == 1.0


def test_one_task_is_worded_in_the_singular(mnist_dir, tmp_path, capsys):
    out = tmp_path / "only"
    assert main(["reproduce", "--out", str(out), "--data-dir", str(mnist_dir), "--only", "task2",
                 "--max-epochs-override", "1", "--seeds", "1", "--jobs", "64"]) == 0
    _, markdown, _ = read(out)
    err = capsys.readouterr().err
    assert "were run" not in markdown and "covers only task 2 (`--only task2`)" in markdown
    assert "(es)" not in err and "2 training runs" in err
    assert err.count("--jobs 64 capped at") == 1


def _history(n_steps: int, every: int = 6) -> History:
    rng = np.random.default_rng(0)
    steps = range(every - 1, n_steps, every)
    return History({s: float(v) for s, v in enumerate(0.1 + 0.05 * rng.random(n_steps))},
                   {s: {"train_loss": 0.1, "val_loss": 0.1 + s * 1e-5, "train_accuracy": 0.96,
                        "val_accuracy": 0.97 - s * 1e-6} for s in steps})


def test_every_figure_text_is_at_least_10_px_at_1280():
    shuffled, plain = _history(361), _history(1039)
    W = np.random.default_rng(1).normal(size=(785, 10))
    figures = [loss_figure(plain, "t", early_stop_step=1038, best_step=978), accuracy_figure(plain, "t"),
               shuffle_loss_figure({False: plain, True: shuffled}, "t", steps_per_epoch=31),
               shuffle_accuracy_figure({False: plain, True: shuffled}, "t"),
               weights_figure([("λ = 0", W), ("λ = 1", W / 10)], "t"),
               lambda_accuracy_figure({1.0: shuffled, 0.1: plain}, "t"),
               norm_figure([1.0, 0.1], [1.0, 2.0], [1.0, 4.0], "t", reference=(3.0, 9.0))]
    for fig in figures:
        assert displayed_text_px(fig) >= MIN_TEXT_PX


def test_task2e_batch_panel_shows_whole_epochs_it_names():
    fig = shuffle_loss_figure({False: _history(1039), True: _history(361)}, "t", steps_per_epoch=31)
    bottom = fig.axes[1]
    steps = np.concatenate([line.get_xdata() for line in bottom.get_lines() if len(line.get_xdata()) > 2])
    assert (steps.min(), steps.max()) == (248, 340)
    assert "epochs 8-10 (steps 248-340)" in bottom.get_title() and "three complete epochs" in bottom.get_title()
    boundaries = sorted(line.get_xdata()[0] for line in bottom.get_lines() if len(line.get_xdata()) == 2)
    assert boundaries == [279, 310]


def test_spike_text_when_not_shuffling_brings_no_larger_spike():
    """Fashion-MNIST's pair: the largest dip is the shuffled run's, 15 times its jitter. The text used to say
    "no spikes stand out", under a figure that marks that spike."""
    from linclass.report.sections_logistic import _spike_text

    accuracy = {"largest_no_shuffle": {"step": 90, "size": 0.0191}, "largest_shuffle": {"step": 108, "size": 0.0773},
                "typical_shuffle": 0.0050, "no_shuffle_larger_than_shuffle_largest": {"steps": [], "sizes": []}}
    text = _spike_text({"spikes": {"val_accuracy": accuracy}, "batch_loss_epoch_correlation": {}, "no_shuffle": {}})
    assert "(0.0773 at step 108, 15 times that run's jitter of 0.0050)" in text
    assert "not shuffling brings no larger spikes than shuffling" in text and "stand out" not in text


@pytest.mark.parametrize("at_stop, expected", [
    (0.4496, "(less than 1 % higher): a plateau rather than a turn upward"),  # Fashion-MNIST's task 3
    (0.4600, "(2.4 % higher): it had turned upward"),
])
def test_early_stop_text_says_overfitting_only_when_the_loss_turned_upward(at_stop, expected):
    from linclass.report.sections_softmax import _overfitting_text

    best = {"train_accuracy": 0.86, "val_accuracy": 0.84, "train_loss": 0.40, "val_loss": 0.4492}
    run = {"config": {"patience": 10, "restore_best_weights": True, "max_epochs": 50}, "best": best,
           "at_stop": {**best, "val_loss": at_stop}, "best_step": 7316, "early_stop": {"step": 7626, "epoch": 48}}
    text = _overfitting_text(run)
    assert expected in text and f"At the stop it was {at_stop:.4f} against 0.4492 at the kept step" in text
    assert ("where overfitting begins" in text) == (at_stop > 0.45)


def test_task4_texts_call_a_gap_within_five_images_level():
    """--train-size 5000: λ = 0.001 at 0.9037 against 0.9035 for λ = 0 was 'a higher validation accuracy ... a
    small penalty removes more overfitting', under a heading saying regularisation lowers the accuracy."""
    from linclass.report.sections_softmax import _accuracy_text, _why_heading, _why_text

    def run(l2, accuracy):
        metrics = {"val_accuracy": accuracy, "train_accuracy": 0.922, "val_loss": 0.35, "train_loss": 0.3}
        return {"lambda": l2, "best": metrics, "config": {"restore_best_weights": True, "max_epochs": 50,
                                                          "train_size": 5000}, "early_stop": None}

    zero, runs = run(0.0, 0.9035), [run(0.001, 0.9037), run(0.01, 0.9024), run(0.1, 0.8844), run(1.0, 0.8198)]
    assert "λ = 0.001, level with (within 0.0005 of) λ = 0. Among the four" in _accuracy_text(runs, zero)
    assert _why_heading(runs, zero) == "Task 4d: why regularisation does not raise the accuracy here"
    assert "λ = 0.001 is level with it (within 0.0005), the others lower by up to 0.0837" in _why_text(runs, zero)
    runs[0]["best"]["val_accuracy"] = 0.9060  # clearly higher
    assert _why_heading(runs, zero) == "Task 4d: when regularisation raises the accuracy"
    assert _why_text(runs, zero).startswith("Not every λ lowers the accuracy here: λ = 0.001 reach")


def test_curves_under_the_original_rules_do_not_call_the_best_step_kept():
    figure = loss_figure(History(), "t", best_step=978, best_kept=False)
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert "lowest validation loss (step 978; the last step's weights are kept)" in labels


def test_spike_text_explains_a_repeating_batch_only_when_spikes_recur():
    """Coat vs Pullover: one large dip, nothing recurring; the text used to explain recurring damage and say the
    shuffled curves 'only jitter' (its largest spike was 25 times its jitter)."""
    from linclass.report.sections_logistic import _spike_text

    accuracy = {"largest_no_shuffle": {"step": 60, "size": 0.08}, "largest_shuffle": {"step": 90, "size": 0.074},
                "typical_shuffle": 0.003, "no_shuffle_larger_than_shuffle_largest": {
                    "steps": [60], "sizes": [0.08], "most_common_steps": [60], "most_common_batch": 0,
                    "most_common_gaps": [], "most_common_sizes": [0.08]}}
    spikes = {"val_accuracy": accuracy, "train_loss": {"largest_no_shuffle": {"step": 60, "size": 0.2}},
              "val_loss": {"largest_no_shuffle": {"step": 60, "size": 0.1}}, "expected_period": 30}
    text = _spike_text({"spikes": spikes, "batch_loss_epoch_correlation": {"no_shuffle": 1.0, "shuffle": 0.03},
                        "no_shuffle": {"steps_per_epoch": 30, "validate_every": 6}})
    assert "here no large spike recurs at the same point of an epoch" in text
    assert "same point of every epoch" not in text and "only jitter" not in text


def test_an_early_stop_under_the_original_baseline_is_not_called_levelling_off():
    """--rules original, λ = 1: no validation beat the 1.0 baseline (no best), so it stopped after its patience;
    the text said 'the validation loss levels off earlier'."""
    from linclass.report.sections_softmax import _accuracy_text

    def run(l2, stop, best=True):
        metrics = {"val_accuracy": 0.9 - l2 / 10, "train_accuracy": 0.92, "val_loss": 0.3 + l2, "train_loss": 0.3}
        return {"lambda": l2, "best": metrics if best else None, "final_weights": metrics, "best_step": None,
                "early_stop": {"step": stop, "epoch": 1}, "steps": stop + 1,
                "config": {"restore_best_weights": False, "max_epochs": 50, "early_stopping_baseline": 1.0}}

    zero = run(0.0, 7800)
    text = _accuracy_text([run(0.001, 7700), run(0.01, 7000), run(0.1, 1900), run(1.0, 279, best=False)], zero)
    assert "For λ = 1 no validation loss went below the early-stopping baseline of 1, so its patience ran out" in text
    assert "levels off" not in text


def test_task3_quotes_the_spread_over_seeds_when_there_are_several():
    """--seeds 3: two of three seeds stopped early, while the text, about seed 0, said training never got to a
    turn upward; the spread was computed but quoted nowhere."""
    from linclass.report.sections_original import seed_note

    spread = {"n_seeds": 3, "seeds": [0, 1, 2], "fired": 2, "step": {"min": 6851, "median": 7781, "max": 7799},
              "kept_val_accuracy": {"min": 0.9146, "median": 0.9159, "max": 0.916}}
    summary = {"seed_spread": {"task3_softmax_lambda_0": spread}}
    assert seed_note(summary, "task3_softmax_lambda_0") == (
        " Over 3 seeds (0, 1, 2) early stopping fired in 2, the runs ended at steps 6851 to 7799 (median 7781) and "
        "their kept validation accuracy ranges from 0.9146 to 0.9160; the sentences above describe seed 0's run.")
    spread["n_seeds"] = 1
    assert seed_note(summary, "task3_softmax_lambda_0") == "" and seed_note({}, "task3_softmax_lambda_0") == ""
