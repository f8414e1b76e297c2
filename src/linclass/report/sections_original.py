"""The report's section "Against the original report", written from summary.json alone: every number
the original report states, this reproduction's number, and the reason for any difference, worded
from the measured values (summary["against_original"], summary["seed_spread"])."""

from __future__ import annotations

from .sections import plural

SUGGESTED_SEEDS = 5
HEADER = ["original report", "original", "this run", "spread over seeds: min / median / max", "original inside?",
          "why they differ"]


def where(point: dict, keys) -> str:
    """'step 279, epoch 1' or 'epoch 33', for the quantities the original states."""
    return ", ".join(f"{key} {point[key]}" for key in keys)


def this_run_text(row: dict) -> str:
    this = row["this_run"]
    text = where(this, ("step", "epoch"))
    return text if this["fired"] else f"did not fire (ended at {text})"


def spread_text(row: dict) -> str:
    spread = row["spread"]
    if spread is None:
        return "not shuffled: one outcome"
    if spread["n_seeds"] < 2:
        return f"1 seed only (`--seeds {SUGGESTED_SEEDS}` measures it)"
    parts = [f"{key}s {spread[key]['min']} / {spread[key]['median']} / {spread[key]['max']}"
             for key in ("step", "epoch")]
    return f"{'; '.join(parts)} ({spread['n_seeds']} seeds, early stopping fired in {spread['fired']})"


def inside_text(row: dict) -> str:
    return "n/a" if row["inside_spread"] is None else ("yes" if row["inside_spread"] else "**no**")


def reason(row: dict, baseline: float) -> str:
    """Why this run's number differs from the original's, or why it agrees, from the measured values."""
    keys = list(row["original"])
    stops, this, original = row["stop_under_rules"], row["this_run"], row["original"]
    sentences, explained = [], False
    never_below = row["lowest_val_loss"] >= baseline
    loss_note = (f"its validation loss never goes below {baseline:.1f} (lowest {row['lowest_val_loss']:.4f}), so "
                 "under the original rules no validation counts as an improvement and training stops at validation "
                 f"{row['patience']}" if never_below else "")
    if row["rules"] == "linclass":
        theirs = stops["original"]
        if theirs is not None and theirs["step"] != this["step"]:
            same = explained = all(theirs[key] == original[key] for key in keys)
            sentences.append(
                f"Rules: the original code starts the best validation loss at {baseline:.1f}, ours at infinity; "
                + (loss_note + ". " if loss_note else "")
                + f"Under its rules this very run stops at {where(theirs, keys)}"
                + (", the original's number" if same else "") + " (`--rules original`).")
    elif row["matches"] and never_below:
        later = stops["linclass"]
        sentences.append(loss_note[0].upper() + loss_note[1:] + ". Under linclass's rules it would stop "
                         + (f"at {where(later, keys)}" if later else f"later than step {this['step']}, where this "
                            "run ended") + ".")
    if row["matches"]:
        sentences.insert(0, "Same." if not row["shuffled"] else
                         f"Same, with seed {row['seed']} (the original's shuffling is one unrepeatable draw).")
        return " ".join(sentences)
    if row["shuffled"] and not explained:
        spread = row["spread"]
        if spread is None or spread["n_seeds"] < 2:
            sentences.append(f"Shuffled: one draw each, and the spread over seeds is not measured here (1 seed; "
                             f"`--seeds {SUGGESTED_SEEDS}` measures it).")
        else:
            sentences.append(
                f"Shuffled: one draw each. Over {spread['n_seeds']} seeds this run's "
                + "; ".join(f"{key} ranges over {spread[key]['min']}-{spread[key]['max']}" for key in keys)
                + f", and the original's {where(original, keys)} lies "
                + ("inside" if row["inside_spread"] else "outside") + " that spread.")
    elif not sentences:
        sentences.append("Not explained by the rules: this run is not shuffled, so its stop is deterministic.")
    return " ".join(sentences)


TASKS_OF_MODEL = {"logistic": ("task2",), "softmax": ("task3", "task4")}


def seed_note(summary: dict, name: str) -> str:
    """' Over 3 seeds (0, 1, 2) early stopping fired in 2: ...' for run `name` of summary["seed_spread"], or ''
    when it was trained on one seed only; the text around it describes the first seed's run."""
    spread = (summary.get("seed_spread") or {}).get(name)
    if not spread or spread["n_seeds"] < 2:
        return ""
    step, accuracy = spread["step"], spread["kept_val_accuracy"]
    return (f" Over {spread['n_seeds']} seeds ({', '.join(map(str, spread['seeds']))}) early stopping fired in "
            f"{spread['fired']}, the runs ended at steps {step['min']} to {step['max']} (median {step['median']}) and "
            f"their kept validation accuracy ranges from {accuracy['min']:.4f} to {accuracy['max']:.4f}; the "
            f"sentences above describe seed {spread['seeds'][0]}'s run.")


def against_original(summary: dict) -> list[tuple]:
    rows, env = summary.get("against_original") or [], summary["environment"]
    if not rows:
        return []
    baseline = 1.0  # the original code's starting best validation loss (plan.RULES["original"])
    rules, cap = env.get("rules", "linclass"), env["max_epochs_override"]
    why = ((lambda row: f"Not comparable: every run was capped at {plural(cap, 'epoch')} (a test setting).")
           if cap is not None else (lambda row: reason(row, baseline)))
    table = [[f"task {row['task']}: {row['setting']}", where(row["original"], row["original"]), this_run_text(row),
              spread_text(row), inside_text(row), why(row)] for row in rows]
    matches = sum(row["matches"] for row in rows)
    intro = (f"The original course report states {plural(len(rows), 'number')} of the runs made here. This "
             f"reproduction ran under **{rules}'s rules**"
             + (" (best validation loss starting at infinity, best weights restored; `--rules original` runs the "
                "original code's: starting at 1.0, weights at the stop kept)" if rules == "linclass" else
                " (`--rules original`: best validation loss starting at 1.0, weights at the stop kept)")
             + f" and agrees on {matches} of them. Steps and epochs count from 0, as in the original. The original "
             "shuffles with Python's unseeded `random.shuffle`, so each of its shuffled numbers is one draw that no one "
             "can repeat, its own code included; they are set against the spread of this reproduction over seeds: "
             + ", ".join(f"{n} seed{'' if n == 1 else 's'} for the {model} runs"
                         for model, n in env.get("seeds_per_model", {}).items()
                         if any(task in summary for task in TASKS_OF_MODEL.get(model, ())))  # the models trained here
             + f" here (`linclass reproduce --seeds N` sets N for every shuffled run; `--seeds {SUGGESTED_SEEDS}` "
             f"costs about {SUGGESTED_SEEDS} times the softmax training time). A run whose early stopping does not fire "
             "counts at its last step; the median is the lower one, a real run's value.")
    return [("h2", "Against the original report"),
            ("p", intro),
            ("table", HEADER, table, "`against_original[i]`: `original`, `this_run`, `spread`, `inside_spread`, "
                                     "`stop_under_rules`, `lowest_val_loss`; `seed_spread`")]
