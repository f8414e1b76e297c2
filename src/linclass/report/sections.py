"""The report's common sections (protocol, task 1, environment) and the helpers of all sections.

Sentences that interpret a result are chosen by comparing the measured numbers, so the text
stays true when a different seed, dtype or a reduced configuration changes them.
"""

from __future__ import annotations

from .sections_data import data_of, holdout, pair_labels, pair_plural


def num(x) -> str:
    """Losses, accuracies, norms: 4 decimals."""
    return "n/a" if x is None else f"{x:.4f}"


def sci(x) -> str:
    """Gradient differences: scientific notation."""
    return "n/a" if x is None else f"{x:.1e}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def stop_text(run: dict) -> str:
    stop = run["early_stop"]
    if stop is None:
        return f"did not fire (all {run['config']['max_epochs']} epochs, {run['steps']} steps)"
    return f"fired at step {stop['step']} (epoch {stop['epoch']})"


def restores(run: dict) -> bool:
    """Whether the run kept the weights of its lowest validation loss (linclass's rule), rather than those
    after its last step (the original code's rule, or no validation ever beat the baseline)."""
    return run["config"].get("restore_best_weights", True) and run["best"] is not None


def kept(run: dict) -> dict:
    """The four metrics of the weights the run keeps: the best ones, or those after the last step."""
    return run["best"] if restores(run) else run["final_weights"]


def kept_step(run: dict) -> int:
    """The step whose weights the run keeps."""
    return run["best_step"] if restores(run) else run["steps"] - 1


def _softmax_run(summary: dict) -> dict | None:
    return summary.get("task3") or (summary.get("task4") or {}).get("lambda0")


def protocol(summary: dict) -> list[tuple]:
    env, softmax = summary["environment"], _softmax_run(summary)
    logistic = (summary.get("task2") or {}).get("no_shuffle")
    any_run = logistic or softmax
    ran = [task for task in ("task3", "task4") if task in summary]  # the softmax tasks this report ran
    softmax_label = "tasks 3-4" if len(ran) == 2 else f"task {ran[0][-1]}" if ran else ""
    items = []
    if any_run:
        items.append(_data_item(summary, any_run, logistic))
        items.append("**Inputs:** each pixel value p in 0-255 becomes p/127.5 - 1, in [-1, 1]; a constant 1 is "
                     "appended as the bias input, so the weights have 785 rows (the last one is the bias).")
        first, second = pair_labels(summary)
        models = ([f"task 2: P({first}) = sigmoid(w·x) with binary cross-entropy (target 1 for {first}, 0 for "
                   f"{second})"] if logistic else []) + (
            [f"{softmax_label}: softmax over 10 outputs with cross-entropy"] if softmax else [])
        items.append(f"**Models and loss:** {'; '.join(models)}. Losses are means over images in nats (natural "
                     "logarithm) and are reported without the L2 term; with L2 the objective is J = C + λ‖w‖², bias "
                     "row included.")
    for label, run in (("task 2", logistic), (softmax_label, softmax)):
        if run:
            c = run["config"]
            items.append(f"**Training, {label}:** mini-batch SGD from zero weights, batch {c['batch_size']}, "
                         f"learning rate {c['learning_rate']:g}, at most {c['max_epochs']} epochs of "
                         f"{run['steps_per_epoch']} steps (the last incomplete batch is dropped), training set "
                         f"{'shuffled every epoch' if c['shuffle'] else 'not shuffled (same order every epoch)'}"
                         f"{' unless stated' if label == 'task 2' else ''}. Validation every fifth of an epoch, "
                         f"i.e. every {run['validate_every']} steps, after that step's update: loss and accuracy on "
                         "the whole training and the whole validation set.")
    if any_run and env.get("rules", "linclass") == "original":
        items.append(f"**Early stopping, the original code's rules (`--rules original`):** the best validation loss "
                     f"starts at {env['rules_early_stopping_baseline']:g}, so a validation counts as an improvement "
                     f"only below {env['rules_early_stopping_baseline']:g} and below every earlier one; training "
                     f"stops after {any_run['config']['patience']} validations in a row without one. The weights "
                     "after the last step are kept (not restored), and the tables quote their metrics, evaluated "
                     "once after that step (`final_weights`). Steps and epochs are counted from 0.")
    elif any_run:
        items.append(f"**Early stopping (linclass's rules, the default):** stop when the validation loss has not "
                     f"reached a new minimum for {any_run['config']['patience']} validations in a row; the weights of "
                     "the lowest validation loss are then restored. Tables give metrics *at stop* (the last "
                     "validation) and of the *kept* weights (the lowest validation loss"
                     + (", also used for weight images and norms" if "task4" in summary else "")
                     + "). `--rules original` runs the original code's rules instead"
                     + (" (see *Against the original report*)" if summary.get("against_original") else "")
                     + ". Steps and epochs are counted from 0.")
    seeded = "shuffling order, task 1's random weights" if "task1" in summary else "shuffling order"
    items.append(f"**Reproducibility:** seed {env['seed']} ({seeded}), "
                 f"{env['dtype']} arithmetic, {env['blas_threads_per_experiment']} BLAS thread per experiment: the "
                 "summation order inside a matrix product depends on the number of threads, so pinning it makes "
                 "re-runs bit-identical whatever `--jobs` is.")
    return [("h2", "Protocol"), ("ul", items)]


def train_size(config: dict) -> int:
    """The number of training images of a run's config (n_train before issue 13)."""
    return config["train_size"] if "train_size" in config else config["n_train"]


def _data_item(summary: dict, run: dict, logistic: dict | None) -> str:
    data, config = data_of(summary), run["config"]
    title = data["title"]
    counts = f"; task 2 keeps the {logistic['n_train_images']} of them that are {pair_plural(summary)}" if logistic else ""
    text = (f"**Data:** the original {title} files, verified by SHA-256. Training: the first "
            f"{train_size(config):,} images of the {title} training set{counts}. ")
    task2_val = f" (task 2: its {logistic['n_val_images']} {pair_plural(summary)})" if logistic else ""
    if not holdout(summary):
        return text + (f"**Validation: the first {config['n_val']:,} images of the {title} test set**{task2_val}, as "
                       "in the original assignment. There is no third, untouched test set: validation also decides "
                       "which weights early stopping keeps, so validation numbers are slightly optimistic estimates "
                       "of test accuracy.")
    test = (logistic or run).get("test") or {}
    first = data["holdout_first_image"]
    return text + (f"**Validation: training images {first:,}-{first + config['n_val'] - 1:,}**{task2_val}, never "
                   f"trained on (the holdout protocol); it draws the curves and decides which weights early "
                   f"stopping keeps. **Test: the {title} test set**"
                   + (f" (task 2: its {test['n_test_images']} {pair_plural(summary)})" if logistic and test else "")
                   + ", used once, after training, on the kept weights: the test numbers are unbiased estimates, "
                   "the validation numbers slightly optimistic.")


def _checked_images(summary: dict, t: dict) -> str:
    """Which images task 1 used: its summary records how many of each model's, since issue 13."""
    if "n_images_checked" not in t["logistic"]:
        return f"the first {t['n_images']} training images of each task"
    return (f"the {t['logistic']['n_images_checked']} {pair_plural(summary)} (task 2's pair) among the first "
            f"{t['n_pair_candidate_images']} training images, and the first {t['softmax']['n_images_checked']} "
            "training images for the ten-class task")


def task1(summary: dict) -> list[tuple]:
    t = summary["task1"]
    threshold = t["threshold"]
    rows = [[name, t[name]["n_weights"], sci(t[name]["max_abs_diff"]), sci(t[name]["l2_max_abs_diff"]),
             "yes" if t[name]["passed"] else "**no**"] for name in ("logistic", "softmax")]
    worst_value, worst_name = max((t[name][key], f"{name}{', with L2' if key.startswith('l2') else ''}")
                                  for name in ("logistic", "softmax") for key in ("max_abs_diff", "l2_max_abs_diff"))
    if all(t[name]["passed"] for name in ("logistic", "softmax")):
        verdict = (f"All four differences are below ε² = {sci(threshold)}, the bound the assignment asks for; the "
                   f"largest, {sci(worst_value)} ({worst_name}), is {threshold / worst_value:,.0f} times smaller. A "
                   "central difference is itself off by about ε² times the third derivative, so differences of this "
                   "size are what correct gradients give: the derived gradients -xᵀ(y - ŷ)/N (+ 2λw) are right.")
    else:
        failed = [name for name in ("logistic", "softmax") if not t[name]["passed"]]
        verdict = f"The gradient of {', '.join(failed)} differs by more than ε² = {sci(threshold)}: it is wrong."
    return [("h2", "Task 1: the gradients, checked numerically"),
            ("p", f"Tasks 1 and 4a derive the gradients of both losses, with and without the L2 term 2λw. They are "
                  f"compared here with central differences (J(w + ε) - J(w - ε)) / 2ε for every weight, with "
                  f"ε = {t['epsilon']:g}, on {_checked_images(summary, t)} ({t['dtype']}), "
                  f"at weights drawn from N(0, {t['weight_scale']:g}²) with the seed; the L2 check uses "
                  f"λ = {t['l2_strength']:g}."),
            ("table", ["model", "weights checked", "max abs difference, λ = 0",
                       f"max abs difference, λ = {t['l2_strength']:g}", f"below ε² = {sci(threshold)}?"], rows,
             "`task1.logistic` and `task1.softmax`: `max_abs_diff`, `l2_max_abs_diff`, `passed`"),
            ("p", verdict)]


def run_row(label: str, run: dict) -> list:
    """A row of RUN_HEADER (the kept weights' metrics); with a held-out test block, the test accuracy
    next to the validation accuracy."""
    metrics = kept(run)
    row = [label, stop_text(run), kept_step(run), num(metrics["train_loss"]), num(metrics["val_loss"]),
           num(metrics["train_accuracy"]), num(metrics["val_accuracy"])]
    return row + [num(run["test"]["test_accuracy"])] if "test" in run else row


RUN_HEADER = ["run", "early stopping", "kept weights: step", "training loss", "validation loss",
              "training accuracy", "validation accuracy"]


def _jobs_text(env: dict) -> str:
    asked = env.get("jobs_requested", env["jobs"])
    return str(env["jobs"]) if asked == env["jobs"] else f"{env['jobs']} (`--jobs {asked}` capped: one per CPU core or group)"
def run_header(runs: list[dict]) -> list[str]:
    """RUN_HEADER, with a test-accuracy column when the runs were evaluated on a held-out test set."""
    return RUN_HEADER + ["test accuracy (held out)"] if all("test" in run for run in runs) else RUN_HEADER


def environment(summary: dict) -> list[tuple]:
    env = summary["environment"]
    rows = [["Python", env["python"]], ["NumPy", env["numpy"]], ["matplotlib", env["matplotlib"]],
            ["linclass", env["linclass"]], ["platform", env["platform"]], ["BLAS", env["blas"]],
            ["seed", env["seed"]], ["dtype", env["dtype"]],
            ["early-stopping rules (`--rules`)", env.get("rules", "linclass")],
            ["worker processes (`--jobs`)", _jobs_text(env)],
            ["BLAS threads per experiment", env["blas_threads_per_experiment"]],
            ["wall time of the whole reproduction", f"{env['wall_seconds']:.1f} s"]]
    if env["gradient_check_seconds"] is not None:
        rows.append(["wall time, task 1 gradient check", f"{env['gradient_check_seconds']:.1f} s"])
    groups = {name: group for group in env["lock_step_groups"] for name in group}
    extra = {name: seconds for name, seconds in env["experiment_seconds"].items() if "_seed" in name}
    for name, seconds in env["experiment_seconds"].items():
        if name in extra:
            continue
        others = [other for other in groups.get(name, [name]) if other != name]
        rows.append([f"wall time, `runs/{name}`", f"{seconds:.1f} s" if not others else
                     f"trained together with {', '.join(f'`runs/{other}`' for other in others)} in lock-step: "
                     f"{seconds:.1f} s for the group"])
    if extra:
        rows.append([f"extra seeds for the spread over seeds (`runs/<name>_seed<N>`), {len(extra)} runs",
                     f"{sum(extra.values()):.1f} s of training in all"])
    return [("h2", "Environment"),
            ("table", ["item", "value"], rows, "`environment`"),
            ("p", f"To reproduce: `{env['command']} --out <folder>`; add `--jobs 2` to train two experiments at a "
                  "time, which changes the wall times but not a single number. Re-runs with the same seed, dtype "
                  "and library versions give identical numbers; wall times vary."),
            ("h2", "Files"),
            ("ul", ["`summary.json`: every number of this report.",
                    "`runs/<name>/`: one folder per training run: `config.json` (all settings), `history.json` "
                    "(`train_loss_per_step`: the loss of every step's batch; `validation`: the four metrics at every "
                    "validation step), `weights.npz` (the kept weights), `metrics.json` (its summary).",
                    "`figures/`: every figure as PNG (shown here) and SVG.",
                    "`report.md` and `report.html`: this report (the HTML file has the figures embedded)."])]
