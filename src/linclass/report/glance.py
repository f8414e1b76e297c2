"""The top of the report: results at a glance (each task's key numbers, from summary.json) and the
table of contents, with the heading ids both link to."""

from __future__ import annotations

import re

from .sections import kept, kept_step, num, sci

HEADER = ["task", "run", "result"]


def _run_result(run: dict) -> str:
    stop = run["early_stop"]
    stopped = (f"early stopping at step {stop['step']} (epoch {stop['epoch']})" if stop
               else f"no early stop ({run['steps']} steps)")
    return f"{stopped}; kept weights (step {kept_step(run)}): validation accuracy {num(kept(run)['val_accuracy'])}"


def glance_rows(summary: dict) -> list[list]:
    """[task, run, result] rows: each task's key numbers, read from summary.json."""
    rows = []
    if "task1" in summary:
        t = summary["task1"]
        worst = max(t[name][key] for name in ("logistic", "softmax") for key in ("max_abs_diff", "l2_max_abs_diff"))
        passed = all(t[name]["passed"] for name in ("logistic", "softmax"))
        rows.append(["1", "gradient check, both models", f"largest difference {sci(worst)}, "
                     f"{'below' if passed else '**above**'} ε² = {sci(t['threshold'])}"])
    if "task2" in summary:
        rows += [["2d", f"logistic, {label}", _run_result(summary["task2"][key])]
                 for key, label in (("no_shuffle", "no shuffling"), ("shuffle", "shuffling"))]
    if "task3" in summary:
        rows.append(["3", "softmax, λ = 0", _run_result(summary["task3"])])
    if "task4" in summary:
        rows += [["4c", f"softmax, λ = {run['lambda']:g}", _run_result(run)]
                 for run in sorted(summary["task4"]["runs"], key=lambda r: r["lambda"])]
    return rows


def glance(summary: dict) -> list[tuple]:
    rows = glance_rows(summary)
    if not rows:
        return []
    keys = {"task1": "`task1`", "task2": "`task2.no_shuffle`, `task2.shuffle`", "task3": "`task3`",
            "task4": "`task4.runs[i]`"}
    sources = ", ".join(key for task, key in keys.items() if task in summary)  # only the tasks this report ran
    return [("h2", "Results at a glance"),
            ("table", HEADER, rows, f"{sources}: `early_stop`, `best_step`, `best` (the kept weights; `final_weights` "
                                    "when the weights at the stop are kept)")]


def anchor(text: str) -> str:
    """The id of a heading: lower case, runs of other characters as one hyphen ('Task 2b: loss' -> 'task-2b-loss')."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def contents(doc: list[tuple]) -> tuple:
    """("toc", [(level, heading text)]) for every h2 and h3 of doc."""
    return ("toc", [(int(block[0][1]), block[1]) for block in doc if block[0] in ("h2", "h3")])
