"""The report's task 2 (logistic regression, 2 vs 3), written from summary.json alone."""

from __future__ import annotations

from .sections import kept, kept_step, num, plural, restores, run_header, run_row, stop_text
from .sections_data import pair_labels, pair_plural


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _spike(entry: dict | None) -> str:
    return "n/a" if entry is None else f"{num(entry['size'])} (step {entry['step']})"


def zoom(limits) -> str:
    """'[0, 0.2]': the y range of a zoomed figure, as summary.json holds it."""
    return f"[{limits[0]:g}, {limits[1]:g}]"


def _ylim(t: dict, name: str) -> list:
    return t.get("ylim", {"loss": [0.0, 0.2], "accuracy": [0.93, 0.99]})[name]  # fixed before issue 13


def task2(summary: dict) -> list[tuple]:
    t = summary["task2"]
    ns, figures = t["no_shuffle"], t["figures"]
    first, second = pair_labels(summary)
    test = (f" The last column is each run's accuracy on the {ns['test']['n_test_images']} held-out test images "
            f"of the pair, measured once after training." if "test" in ns else "")
    return ([("h2", f"Task 2: logistic regression, {first} vs {second}"),
             ("h3", "Task 2b: loss"),
             ("figure", figures["loss"], "training loss (mean of 10 consecutive steps, each on one batch of 128 "
                                         "images; band: +/- 1 standard deviation of those 10) and validation loss "
                                         f"(whole validation set) without shuffling, y axis zoomed to {zoom(_ylim(t, 'loss'))}"),
             ("p", _loss_text(t, pair_plural(summary))),
             ("h3", "Task 2c: accuracy"),
             ("figure", figures["accuracy"], "training and validation accuracy (whole sets, at every validation) "
                                             f"of the same run, y axis zoomed to {zoom(_ylim(t, 'accuracy'))}"),
             ("p", _accuracy_text(ns) + (" The sharp drops are the spikes of task 2e." if _spike_count(t) else "")),
             ("h3", "Task 2d: early stopping"),
             ("table", run_header([ns, t["shuffle"]]), [run_row("no shuffling", ns), run_row("shuffling", t["shuffle"])],
              "`task2.no_shuffle` and `task2.shuffle`: `early_stop`, `best_step`, `best` (`final_weights` when "
              "the weights at the stop are kept)" + (", `test`" if "test" in ns else "")),
             ("p", _early_stopping_text(t) + test
              + _spread_text(summary.get("seed_spread", {}).get("task2_logistic_shuffle")))]
            + _shuffle_blocks(t))


def _spread_text(spread: dict | None) -> str:
    """Where the shuffled run stops over seeds, when more than one seed was run."""
    if not spread or spread["n_seeds"] < 2:
        return ""
    epochs, this = spread["epoch"], spread["runs"][0]
    return (f" The shuffled run's stop depends on the shuffling: over {spread['n_seeds']} seeds it ends in epochs "
            f"{epochs['min']} to {epochs['max']} (median {epochs['median']}), and seed {this['seed']} ends in epoch "
            f"{this['epoch']} (`seed_spread.task2_logistic_shuffle`).")


def _loss_text(t: dict, images: str) -> str:
    ns, correlation = t["no_shuffle"], t["batch_loss_epoch_correlation"]["no_shuffle"]
    best = kept(ns)
    gap = best["val_loss"] - best["train_loss"]
    if not restores(ns):
        text = (f"Early stopping {stop_text(ns)} and, as in the original code, the weights after the last step "
                f"({kept_step(ns)}) are kept; their validation loss is {num(best['val_loss'])}. ")
    elif ns["early_stop"]:
        text = f"The validation loss reaches its lowest value, {num(best['val_loss'])}, at step {ns['best_step']}. "
        waited = (ns["early_stop"]["step"] - ns["best_step"]) // ns["validate_every"]
        text += (f"Early stopping {stop_text(ns)}, {waited} validations later, and the weights of step "
                 f"{ns['best_step']} are kept. ")
    else:
        text = (f"The validation loss reaches its lowest value, {num(best['val_loss'])}, at step {ns['best_step']}. "
                f"Early stopping {stop_text(ns)}; the weights of step {ns['best_step']} are kept. ")
    text += f"With them the loss on the whole training set is {num(best['train_loss'])}: the validation loss is "
    if gap < 0:
        text += (f"{num(-gap)} lower than the training loss, so there is no sign of overfitting; the {images} "
                 "of the validation set are, if anything, slightly easier for this model than the training ones. ")
    else:
        text += f"{num(gap)} higher than the training loss, a small generalisation gap. "
    batches = ns["last_epoch_batch_loss"]
    text += (f"The band is wide because the loss of one batch of 128 images is a noisy sample of the whole loss: "
             f"over the last epoch the batch losses average {num(batches['mean'])} with a standard deviation of "
             f"{num(batches['std'])}")
    if correlation is not None and correlation > 0.9:
        text += (f". Without shuffling the 10-step mean also rises and falls in a fixed pattern, because the same "
                 f"{ns['steps_per_epoch']} batches come in the same order every epoch (the batch losses of one "
                 f"epoch correlate at {num(correlation)} with those of the next)")
    if _recurring_spikes(t):
        text += ". The isolated peaks of the validation loss are the spikes explained in task 2e"
    return text + "."


def _spike_count(t: dict) -> int:
    over = t["spikes"]["val_accuracy"].get("no_shuffle_larger_than_shuffle_largest")
    return len(over["steps"]) if over else 0


def _recurring_spikes(t: dict) -> bool:
    """Whether several of the no-shuffle run's large spikes come right after the same batch of an epoch."""
    over = t["spikes"]["val_accuracy"].get("no_shuffle_larger_than_shuffle_largest")
    return bool(over) and len(over.get("most_common_steps", [])) > 1


def _accuracy_text(ns: dict) -> str:
    best, last = kept(ns), ns["at_stop"]
    higher = best["val_accuracy"] > best["train_accuracy"]
    loss_lower = best["val_loss"] < best["train_loss"]
    return (f"With the kept weights (step {kept_step(ns)}) the training accuracy is {num(best['train_accuracy'])} "
            f"and the validation accuracy {num(best['val_accuracy'])}; at the last validation (step "
            f"{ns['last_validation_step']}) they are {num(last['train_accuracy'])} and {num(last['val_accuracy'])}. "
            f"The validation accuracy is {'higher' if higher else 'lower'} than the training accuracy, "
            f"{'as' if higher == loss_lower else 'although'} the validation loss is "
            f"{'lower' if loss_lower else 'higher'} than the training loss.")


def _early_stopping_text(t: dict) -> str:
    runs = {"without shuffling": t["no_shuffle"], "with shuffling": t["shuffle"]}
    sentences = []
    for label, run in runs.items():
        stop = run["early_stop"]
        if stop:
            sentences.append(f"{label.capitalize()}, early stopping fires at step {stop['step']}, in epoch "
                             f"{stop['epoch']} (counted from 0: the {ordinal(stop['epoch'] + 1)} of at most "
                             f"{run['config']['max_epochs']} epochs).")
        else:
            sentences.append(f"{label.capitalize()}, early stopping {stop_text(run)}.")
    ns, sh = t["no_shuffle"], t["shuffle"]
    if ns["early_stop"] and sh["early_stop"]:
        epochs = sh["early_stop"]["epoch"] - ns["early_stop"]["epoch"]
        jitter_ns, jitter_sh = t["spikes"]["val_loss"]["typical_no_shuffle"], t["spikes"]["val_loss"]["typical_shuffle"]
        when = (f"{plural(abs(epochs), 'epoch')} {'earlier' if epochs < 0 else 'later'}" if epochs
                else "in the same epoch")
        sentences.append(f"With shuffling it fires {when}, "
                         f"keeping a {'higher' if kept(sh)['val_loss'] > kept(ns)['val_loss'] else 'lower'} "
                         f"validation loss ({num(kept(sh)['val_loss'])} against {num(kept(ns)['val_loss'])}).")
        if epochs < 0 and jitter_ns and jitter_sh and jitter_sh > jitter_ns:
            sentences.append(
                f"Early stopping waits for {ns['config']['patience']} validations in a row without a new minimum. "
                "Without shuffling the updates repeat from epoch to epoch and, apart from the spikes, the "
                f"validation loss creeps down steadily (typical jitter {num(jitter_ns)} around its running median, "
                "see the table of task 2e), so new minima keep coming; with shuffling every validation follows "
                f"different batches and the validation loss jitters {jitter_sh / jitter_ns:.1f} times as much "
                f"({num(jitter_sh)}), so such a run of validations comes sooner.")
    return " ".join(sentences)


def _shuffle_blocks(t: dict) -> list[tuple]:
    spikes, correlation, figures = t["spikes"], t["batch_loss_epoch_correlation"], t["figures"]
    rows = [["largest validation-accuracy dip", _spike(spikes["val_accuracy"]["largest_no_shuffle"]),
             _spike(spikes["val_accuracy"]["largest_shuffle"])],
            ["largest training-loss spike (whole training set)", _spike(spikes["train_loss"]["largest_no_shuffle"]),
             _spike(spikes["train_loss"]["largest_shuffle"])],
            ["largest validation-loss spike", _spike(spikes["val_loss"]["largest_no_shuffle"]),
             _spike(spikes["val_loss"]["largest_shuffle"])],
            ["typical validation-accuracy jitter", num(spikes["val_accuracy"]["typical_no_shuffle"]),
             num(spikes["val_accuracy"]["typical_shuffle"])],
            ["typical validation-loss jitter", num(spikes["val_loss"]["typical_no_shuffle"]),
             num(spikes["val_loss"]["typical_shuffle"])],
            ["correlation of batch losses, consecutive epochs", num(correlation["no_shuffle"]),
             num(correlation["shuffle"])]]
    return [("h3", "Task 2e: shuffling the training set every epoch"),
            ("figure", figures["shuffle_accuracy"],
             f"validation accuracy without (red) and with (green) shuffling, y axis zoomed to "
             f"{zoom(_ylim(t, 'accuracy'))}; circles (triangles on the axis edge when off the axis): each run's "
             "largest dip"),
            ("figure", figures["shuffle_loss"], "top: training loss on the whole training set at every validation, "
                                                f"y axis zoomed to {zoom(_ylim(t, 'loss'))}, circles: each run's "
                                                "largest spike; bottom: the loss of each step's own batch over the "
                                                "last three complete epochs both runs trained, between dotted epoch "
                                                "boundaries"),
            ("table", ["measure", "no shuffling", "shuffling"], rows,
             "`task2.spikes` (`largest_no_shuffle`, `largest_shuffle`, `typical_*`) and "
             "`task2.batch_loss_epoch_correlation`"),
            ("p", f"A spike's size is how far one validation lies from the median of the {spikes['window']} "
                  f"validations centred on it, counted from step {spikes['first_step']} (after the first epoch), so "
                  "the slow trend of the curves does not count; the jitter is the median of these distances."),
            ("p", _spike_text(t))]


def _spike_text(t: dict) -> str:
    spikes, correlation, ns = t["spikes"], t["batch_loss_epoch_correlation"], t["no_shuffle"]
    accuracy = spikes["val_accuracy"]
    over = accuracy.get("no_shuffle_larger_than_shuffle_largest")
    if over is None or accuracy["largest_no_shuffle"] is None:
        return "The runs are too short to measure spikes (fewer than two epochs)."
    count = len(over["steps"])
    if count == 0:
        largest, typical = accuracy["largest_shuffle"], accuracy["typical_shuffle"]
        return (f"Without shuffling no validation-accuracy dip is larger than the largest one with shuffling "
                f"({num(largest['size'])} at step {largest['step']}, {largest['size'] / typical:.0f} times that run's "
                f"jitter of {num(typical)}): in these runs, not shuffling brings no larger spikes than shuffling.")
    text = (f"Without shuffling, {plural(count, 'validation-accuracy dip')} {'is' if count == 1 else 'are'} larger "
            "than the largest dip with shuffling "
            f"({num(accuracy['largest_shuffle']['size'])}); the largest is "
            f"{num(accuracy['largest_no_shuffle']['size'])} "
            f"at step {accuracy['largest_no_shuffle']['step']}. The losses spike too: by up to "
            f"{_spike(spikes['train_loss']['largest_no_shuffle'])} on the whole training set and "
            f"{_spike(spikes['val_loss']['largest_no_shuffle'])} on the validation set. ")
    at_common = over["most_common_steps"]
    if len(at_common) > 1:
        text += (f"{'All of them' if len(at_common) == count else f'Of these, {len(at_common)}'} come right "
                 f"after batch {over['most_common_batch']} of an epoch (counted from 0)")
        if over["most_common_gaps"] == [spikes["expected_period"]]:
            text += (f" and recur every {spikes['expected_period']} steps, the least common multiple of "
                     f"{ns['steps_per_epoch']} steps per epoch and a validation every {ns['validate_every']} steps, "
                     "which is how often a validation lands right after that batch again")
        text += ". "
        sizes = over["most_common_sizes"]
        if all(a > b for a, b in zip(sizes, sizes[1:])):
            text += f"They shrink as training goes on, from {num(sizes[0])} to {num(sizes[-1])}. "
    if correlation["no_shuffle"] is not None and correlation["shuffle"] is not None:
        text += (f"Without shuffling every epoch repeats the same batches in the same order (the batch losses of "
                 f"consecutive epochs correlate at {num(correlation['no_shuffle'])}, against "
                 f"{num(correlation['shuffle'])} with shuffling)")
        if _recurring_spikes(t):
            text += (", so a batch whose update throws the weights off does so at the same point of every epoch and "
                     "its damage shows whenever a validation follows it. With shuffling the batches are new every "
                     "epoch and no single update repeats.")
        else:
            text += "; here no large spike recurs at the same point of an epoch."
    return text
