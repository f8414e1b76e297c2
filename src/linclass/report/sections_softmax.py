"""The report's tasks 3 and 4 (softmax regression, without and with L2), written from summary.json alone."""

from __future__ import annotations

from .sections import kept, kept_step, num, plural, restores, run_header, run_row, stop_text, train_size
from .sections_data import class_kind, data_of, is_digits
from .sections_original import seed_note

METRICS_HEADER = ["weights", "step", "training loss", "validation loss", "training accuracy", "validation accuracy"]


def _metrics_row(label: str, step, metrics: dict) -> list:
    return [label, step, num(metrics["train_loss"]), num(metrics["val_loss"]), num(metrics["train_accuracy"]),
            num(metrics["val_accuracy"])]


def task3(summary: dict) -> list[tuple]:
    run = summary["task3"]
    best, figures = kept(run), run["figures"]
    if not restores(run):
        text = (f"Early stopping {stop_text(run)}; the weights after the last step ({kept_step(run)}) are kept, "
                f"with a validation loss of {num(best['val_loss'])}")
    else:
        text = (f"Early stopping {stop_text(run)}. The lowest validation loss, {num(best['val_loss'])}, is reached "
                f"at step {run['best_step']}")
    if run["early_stop"] is None and restores(run):
        before = (run["last_validation_step"] - run["best_step"]) // run["validate_every"]
        text += (f", {plural(before, 'validation')} before the last one" if before else ", the last validation")
        text += ": the validation loss was still improving when training ended"
    batches = run["last_epoch_batch_loss"]
    text += (f". Over the last epoch the loss of single batches averages {num(batches['mean'])} with a standard "
             f"deviation of {num(batches['std'])} (the band), against {num(run['at_stop']['train_loss'])} on the whole "
             f"training set and {num(run['at_stop']['val_loss'])} on the validation set at the last validation."
             + seed_note(summary, "task3_softmax_lambda_0"))
    if "test" in run:
        text += (f" With the kept weights the accuracy on the {run['test']['n_test_images']:,} held-out test images, "
                 f"measured once after training, is {num(run['test']['test_accuracy'])}, against "
                 f"{num(best['val_accuracy'])} on the validation set (test loss {num(run['test']['test_loss'])}).")
    ten = "10 digits" if is_digits(summary) else f"the 10 classes of {data_of(summary)['title']}"
    return [("h2", f"Task 3: softmax regression, {ten}"),
            ("h3", "Task 3b: loss"),
            ("figure", figures["loss"], "training loss (mean of 10 consecutive steps, band: +/- 1 standard deviation) "
                                        "and validation loss of softmax regression (λ = 0, shuffled every epoch), "
                                        "y axis zoomed to [{:g}, {:g}]".format(*run.get("loss_ylim", (0.2, 0.6)))),
            ("p", text),
            ("table", METRICS_HEADER,
             [_metrics_row("at the last validation", run["last_validation_step"], run["at_stop"]),
              _metrics_row("best (kept)" if restores(run) else "after the last step (kept)", kept_step(run), best)],
             "`task3`: `at_stop`, " + ("`best`, `best_step`" if restores(run) else "`final_weights`, `steps`")
             + ", `last_validation_step`" + (", `test`" if "test" in run else "")),
            ("h3", "Task 3c: accuracy"),
            ("figure", figures["accuracy"], "training and validation accuracy (whole sets, at every validation), "
                                            "y axis zoomed in"),
            ("p", _overfitting_text(run))]


def _overfitting_text(run: dict) -> str:
    best = kept(run)
    acc_gap, loss_gap = best["train_accuracy"] - best["val_accuracy"], best["val_loss"] - best["train_loss"]
    if acc_gap <= 0 and loss_gap <= 0:
        return (f"No sign of overfitting: with the kept weights the validation accuracy ({num(best['val_accuracy'])}) "
                f"is at least the training accuracy ({num(best['train_accuracy'])}) and the validation loss is not "
                "above the training loss.")
    text = (f"Signs of overfitting are small. With the kept weights the training accuracy is "
            f"{num(best['train_accuracy'])} and the validation accuracy {num(best['val_accuracy'])}, a gap of "
            f"{num(acc_gap)}; the training loss is {num(best['train_loss'])} against {num(best['val_loss'])}: the "
            "model fits the images it is trained on a little better than new ones. ")
    if not restores(run):
        return text + "These are the weights after the last step, kept as in the original code."
    if run["early_stop"] is None:
        text += (f"But the validation loss never turned upward: it was still reaching new minima at step "
                 f"{run['best_step']}, near the end of the {run['config']['max_epochs']} epochs, so training never got to "
                 "the point where fitting the training set better makes the validation set worse. The gap is the "
                 "usual generalisation gap of a model that has seen every training image many times.")
    else:
        at_stop, rise = run["at_stop"]["val_loss"], run["at_stop"]["val_loss"] / best["val_loss"] - 1
        text += (f"Early stopping fired because the validation loss had not reached a new minimum for "
                 f"{run['config']['patience']} validations after step {run['best_step']}, whose weights are kept. "
                 f"At the stop it was {num(at_stop)} against {num(best['val_loss'])} at the kept step ")
        text += (f"({100 * rise:.1f} % higher): it had turned upward, so fitting the training images better had begun "
                 "to cost the validation images, which is where overfitting begins." if rise >= PLATEAU_RISE else
                 f"(less than {100 * PLATEAU_RISE:.0f} % higher): a plateau rather than a turn upward, so these "
                 "numbers do not show overfitting beginning, only that more training stopped helping.")
    return text


PLATEAU_RISE = 0.01  # a validation loss at the stop less than 1 % above the kept one is read as a plateau


def task4(summary: dict) -> list[tuple]:
    t = summary["task4"]
    runs = sorted(t["runs"], key=lambda r: r["lambda"])  # ascending λ in every table and sentence
    zero, figures = t["lambda0"], t["figures"]
    rows = [run_row("λ = 0 (task 3, for comparison)", zero)] + [run_row(f"λ = {r['lambda']:g}", r) for r in runs]
    kind = class_kind(summary)
    norm_rows = [[f"λ = {r['lambda']:g}", num(r["weight_norm"]), num(r["weight_norm_squared"])] for r in [zero] + runs]
    intro = (f"Softmax regression {'as in task 3' if 'task3' in summary else 'as the protocol describes'} with the "
             "penalty λ‖w‖² added to the loss")
    intro += "; the gradient of the penalty, 2λw (task 4a), is checked in task 1." if "task1" in summary else "."
    return [("h2", "Task 4: softmax regression with L2 regularisation"),
            ("p", intro),
            ("h3", "Task 4b: the weights as images"),
            ("figure", figures["weights"], f"each {kind}'s 784 pixel weights as a 28x28 image, λ = 0 (top row) and "
             f"λ = {max(r['lambda'] for r in runs):g} (bottom row), one colour scale per row"),
            ("p", _weights_text(t, is_digits(summary))),
            *_interactive(figures, max(r["lambda"] for r in runs), is_digits(summary)),
            ("h3", "Task 4c: validation accuracy for four values of λ"),
            ("figure", figures["val_accuracy"], "validation accuracy during training for each λ, y axis zoomed in"),
            ("table", run_header([zero] + runs), rows, "`task4.runs[i]` (each with its `lambda`) and `task4.lambda0`"),
            ("p", _accuracy_text(runs, zero)),
            ("h3", _why_heading(runs, zero)),
            ("p", _why_text(runs, zero)),
            ("h3", "Task 4e: the size of the weights against λ"),
            ("figure", figures["weight_norm"], "‖w‖ (top) and ‖w‖² (bottom) of the kept weights after training, "
                                               "against λ on a log axis; dashed: λ = 0"),
            ("table", ["λ", "‖w‖ (L2 norm)", "‖w‖² (squared L2 norm)"], norm_rows,
             "`task4.runs[i].weight_norm`, `weight_norm_squared`, and `task4.lambda0`"),
            ("p", _norm_text(runs, zero))]


def _weights_text(t: dict, digits: bool = True) -> str:
    images, runs = t["weight_images"], t["runs"]
    strong = max(runs, key=lambda r: r["lambda"])
    plain, penalised = images["lambda_0"], images[f"lambda_{strong['lambda']:g}"]
    smoother = penalised["detail_share"] < 0.8 * plain["detail_share"]
    kind = "digit" if digits else "class"
    text = (f"Each image shows the 784 pixel weights of one {kind}'s output (the bias is left out): red pixels raise "
            f"that {kind}'s score, blue ones lower it. A 3x3 blur removes "
            f"{100 * plain['detail_share']:.1f} % of the images' variation without L2 and "
            f"{100 * penalised['detail_share']:.1f} % with λ = {strong['lambda']:g}")
    if smoother and digits:
        text += (": the penalised images have less pixel-scale detail and look like blurred templates of their "
                 "digits, positive where the digit's strokes usually are and negative where other digits have "
                 "strokes and this one has none")
    elif smoother:
        text += (": the penalised images have less pixel-scale detail and look like blurred silhouettes of their "
                 "classes, positive where that class's items usually cover the image and negative where other "
                 "classes do and this one does not")
    text += (f". The largest |weight| is {num(plain['max_abs_weight'])} without L2 and "
             f"{num(penalised['max_abs_weight'])} with λ = {strong['lambda']:g}, hence one colour scale per row. ")
    if smoother:
        text += ("L2 charges every weight for its size, so weights that help with only a few training images (single "
                 "pixels, noise) are pulled towards zero, while the broad patterns shared by many images survive.")
    if strong["early_stop"]:
        text += (f" The λ = {strong['lambda']:g} run stopped early, at step {strong['early_stop']['step']} (epoch "
                 f"{strong['early_stop']['epoch']}); its kept weights are those of step {kept_step(strong)}.")
    return text


def _accuracy_text(runs: list[dict], zero: dict) -> str:
    accuracy = {r["lambda"]: kept(r)["val_accuracy"] for r in runs}
    best = max(accuracy, key=accuracy.get)
    ordered = sorted(accuracy)  # weakest penalty first
    text = ("With the kept weights the validation accuracy is "
            + ", ".join(f"{num(accuracy[l2])} for λ = {l2:g}" for l2 in ordered)
            + f" (λ = 0: {num(kept(zero)['val_accuracy'])}). The best of the four is λ = {best:g}, "
            + _against_zero(accuracy[best] - kept(zero)["val_accuracy"]) + " λ = 0. ")
    if all(accuracy[a] > accuracy[b] for a, b in zip(ordered, ordered[1:])):
        text += "Among the four, the accuracy falls steadily as λ grows. "
    stops = {r["lambda"]: r["early_stop"]["step"] if r["early_stop"] else float("inf") for r in runs}
    if any(stops[l2] < float("inf") for l2 in ordered) and all(
            stops[a] > stops[b] for a, b in zip(ordered, ordered[1:])):
        limit = runs[0]["config"]["max_epochs"]
        losses = [kept(r)["val_loss"] for r in sorted(runs, key=lambda r: r["lambda"])]
        # Under the original code's rules a run whose validation loss never beat the baseline has no best.
        unbeaten = [r for r in runs if r["early_stop"] and r["best"] is None]
        reason = (": the validation loss levels off earlier"
                  + (", at a higher value." if all(a < b for a, b in zip(losses, losses[1:])) else "."))
        if unbeaten:
            names = ", ".join(f"λ = {r['lambda']:g}" for r in unbeaten)
            reason = (f". For {names} no validation loss went below the "
                      f"early-stopping baseline of {unbeaten[0]['config']['early_stopping_baseline']:g}, so its "
                      "patience ran out from the first validation on, not because the loss levelled off.")
        text += ("A stronger penalty also makes early stopping fire sooner (" + ", ".join(
            (f"step {stops[l2]}" if stops[l2] < float("inf") else f"not within {limit} epochs") + f" for λ = {l2:g}"
            for l2 in reversed(ordered)) + ")" + reason)
    return text.rstrip()


TIE = 0.0005  # validation accuracies this close (5 images in 10,000) are called level, not higher or lower


def _against_zero(gap: float) -> str:
    """'above', 'level with' or 'still below', for a validation accuracy gap to λ = 0."""
    return "above" if gap > TIE else "still below" if gap < -TIE else f"level with (within {TIE:g} of)"


def _why_heading(runs: list[dict], zero: dict) -> str:
    if any(kept(r)["val_accuracy"] > kept(zero)["val_accuracy"] + TIE for r in runs):
        return "Task 4d: when regularisation raises the accuracy"
    return "Task 4d: why regularisation does not raise the accuracy here"


def _why_text(runs: list[dict], zero: dict) -> str:
    base, base_train = kept(zero)["val_accuracy"], kept(zero)["train_accuracy"]
    gaps = {r["lambda"]: base - kept(r)["val_accuracy"] for r in runs}  # > 0: below λ = 0
    better = [f"λ = {l2:g}" for l2, gap in gaps.items() if gap < -TIE]
    if better:
        return (f"Not every λ lowers the accuracy here: {', '.join(better)} reach a validation accuracy more than "
                f"{TIE:g} above λ = 0 ({num(base)}), so a small penalty removes more overfitting than it costs in fit.")
    level = [f"λ = {l2:g}" for l2, gap in gaps.items() if gap <= TIE]
    text = f"No value of λ gives a clearly higher validation accuracy than λ = 0 ({num(base)}): "
    if level:
        text += (f"{', '.join(level)} {'is' if len(level) == 1 else 'are'} level with it (within {TIE:g}), the "
                 f"others lower by up to {num(max(gaps.values()))}. ")
    else:
        text += f"all four are lower, by {num(min(gaps.values()))} to {num(max(gaps.values()))}. "
    if all(kept(r)["train_accuracy"] < base_train for r in runs):
        text += ("The training accuracy drops as well ("
                 + ", ".join(f"{num(kept(r)['train_accuracy'])} for λ = {r['lambda']:g}" for r in runs)
                 + f", against {num(base_train)} for λ = 0), so the penalty costs fit, not only generalisation. ")
    text += ("The penalty pulls the weights towards zero, away from the weights that fit the data best; this bias "
             "pays off only when it removes more overfitting than it adds error, and the λ = 0 run shows "
             "there is little overfitting to remove: its training accuracy is "
             + (f"only {num(base_train - base)} above" if base_train > base else "not even above")
             + f" its validation accuracy. A linear model with {785 * 10:,} weights trained on "
             f"{train_size(zero['config']):,} images is limited by what a linear model can express, not by "
             "overfitting, so any λ > 0 mostly lowers the accuracy.")
    return text


def _norm_text(runs: list[dict], zero: dict) -> str:
    ordered = sorted(runs, key=lambda r: r["lambda"])
    norms = [r["weight_norm"] for r in ordered]
    falling = all(a > b for a, b in zip(norms, norms[1:]))
    weakest, strongest = ordered[0], ordered[-1]
    text = (f"‖w‖ {'falls steadily' if falling else 'changes'} as λ grows: from {num(weakest['weight_norm'])} at "
            f"λ = {weakest['lambda']:g} to {num(strongest['weight_norm'])} at λ = {strongest['lambda']:g} "
            f"({num(zero['weight_norm'])} without L2); ‖w‖², the quantity the penalty charges for, from "
            f"{num(weakest['weight_norm_squared'])} to {num(strongest['weight_norm_squared'])}, ")
    text += (f"{weakest['weight_norm_squared'] / strongest['weight_norm_squared']:.0f} times smaller. "
             if strongest["weight_norm_squared"] > 0 else "down to zero. ")
    if falling:
        text += ("A larger λ makes each unit of ‖w‖² cost more in J = C + λ‖w‖², so the minimum of J, and the "
                 "weights SGD reaches, move towards smaller weights. ")
    return text + "All norms are of the kept weights and include the bias row."


def _interactive(figures: dict, strongest: float, digits: bool) -> list[tuple]:
    """Task 4b's weights at work: the two models as linked widgets (drawing widgets on MNIST)."""
    if "interactive" not in figures:
        return []
    how = "Draw a digit below (or click a test image)" if digits else "Click a test image below"
    return [("p", f"{how}: both models, λ = 0 and λ = {strongest:g}, see the "
                  "same 28 × 28 input. Each shows its class probabilities and, for its two most probable classes, "
                  "the evidence w_k ⊙ x pixel by pixel, so the smoother templates of the penalised model can be "
                  "seen at work."),
            ("widget", figures["interactive"], f"the λ = 0 and λ = {strongest:g} models of this reproduction, "
                                               "live in the page (its weights are embedded; nothing is fetched)")]

