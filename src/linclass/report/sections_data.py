"""What the report says about its data: the dataset and its classes, task 2's pair and why, the protocol's
sets, and the comparison with a published baseline; written from summary.json alone."""

from __future__ import annotations

from ..data import dataset_source


def pct(x: float) -> str:
    """An accuracy as a percentage with one decimal: 0.8425 -> '84.2 %'."""
    return f"{100 * x:.1f} %"


def data_of(summary: dict) -> dict:
    """summary['dataset'], or MNIST under the assignment's protocol for a summary written before it existed."""
    if "dataset" in summary:
        return summary["dataset"]
    source = dataset_source("mnist")
    return {"name": "mnist", "title": "MNIST", "class_names": list(source.class_names), "class_word": "digit",
            "protocol": "assignment", "train_size": 20000, "n_training_images": 60000, "n_test_images": 10000,
            "holdout_first_image": 50000,
            "pair": {"classes": [2, 3], "labels": ["digit 2", "digit 3"], "is_default": True},
            "published_logistic_test_accuracy": None, "published_baseline_source": None}


def block_is_digits(data: dict) -> bool:
    """Whether a summary's dataset block (data_of) is of handwritten digits, which users can draw."""
    return data["class_word"] == "digit"


def is_digits(summary: dict) -> bool:
    return block_is_digits(data_of(summary))


def pair_labels(summary: dict) -> tuple[str, str]:
    """('digit 2', 'digit 3') or ('Shirt', 'T-shirt/top'): target 1, then target 0."""
    first, second = data_of(summary)["pair"]["labels"]
    return first, second


def pair_plural(summary: dict) -> str:
    """'2s and 3s' on MNIST, 'Shirt and T-shirt/top images' elsewhere."""
    data = data_of(summary)
    first, second = data["pair"]["classes"]
    if block_is_digits(data):
        return f"{first}s and {second}s"
    return f"{data['pair']['labels'][0]} and {data['pair']['labels'][1]} images"


def class_kind(summary: dict) -> str:
    """'digit' or 'class': what each of the ten outputs stands for."""
    return "digit" if is_digits(summary) else "class"


def holdout(summary: dict) -> bool:
    return data_of(summary)["protocol"] == "holdout"


def _pair_confusion(summary: dict) -> str:
    task3 = summary.get("task3") or {}
    pair, top = task3.get("task2_pair_confusion"), task3.get("most_confused_pairs") or []
    if not pair or not top:
        return ""
    first, second = pair["names"]
    text = (f" In this reproduction the ten-class model of task 3 (kept weights, validation set) mistakes "
            f"{pair['first_as_second']} {first} images for {second} and {pair['second_as_first']} the other way, "
            f"{pair['count']} in all: pair {pair['rank']} of {pair['of']} by confusions")
    if pair["rank"] == 1:
        return text + ", the pair it confuses most."
    ahead = [f"{' vs '.join(p['names'])} ({p['count']})" for p in top[:pair["rank"] - 1]]
    if len(ahead) < pair["rank"] - 1:
        return text + f"; {pair['rank'] - 1} pairs are confused at least as often, most of all {ahead[0]}."
    return text + f"; only {', '.join(ahead)} {'is' if len(ahead) == 1 else 'are'} confused at least as often."


def dataset_section(summary: dict) -> list[tuple]:
    """A section on the dataset and task 2's pair, for any report but the course's own (MNIST, 2 vs 3)."""
    data = data_of(summary)
    if data["name"] == "mnist" and data["pair"]["is_default"]:
        return []
    first, second = pair_labels(summary)
    names = ", ".join(f"{i} {name}" for i, name in enumerate(data["class_names"]))
    items = [] if data["name"] == "mnist" else [
        f"**Dataset:** {data['title']}, 28x28 grayscale images in ten classes ({names}), with the same file format, "
        f"image size and split ({data['n_training_images']:,} training, {data['n_test_images']:,} test images) as "
        "MNIST; every file is verified by the SHA-256 of its decompressed contents."]
    if "task2" in summary:
        why = ("the default pair for this dataset. Both are tops with the same outline, told apart only by "
               "details such as a collar, buttons or a print, so a linear model on raw pixels finds them hard to "
               "separate; when this default was chosen, logistic regression separated this pair least well of "
               "the garment pairs that softmax regression confuses most (measurements in the README)."
               if data["pair"]["is_default"] and data["name"] != "mnist" else "the pair given with `--classes`.")
        items.append(f"**Task 2's pair:** {first} (target 1) vs {second} (target 0), {why}"
                     + _pair_confusion(summary))
    return [("h2", f"The data: {data['title']}"), ("ul", items)]


def best_value(run: dict, what: str) -> str:
    value = run["test"]["test_accuracy"] if what == "test accuracy" else run["best"]["val_accuracy"]
    return f"{value:.4f}"


def baseline_section(summary: dict) -> list[tuple]:
    """How the ten-class accuracies compare with the dataset's published logistic-regression baseline."""
    data = data_of(summary)
    baseline = data["published_logistic_test_accuracy"]
    runs = [("task 3 (λ = 0)", summary["task3"])] if "task3" in summary else []
    runs += [(f"task 4, λ = {r['lambda']:g}", r) for r in (summary.get("task4") or {}).get("runs", [])]
    if baseline is None or not runs:
        return []
    label, best = max(runs, key=lambda item: item[1]["best"]["val_accuracy"])
    measured = best["test"]["test_accuracy"] if "test" in best else best["best"]["val_accuracy"]
    what = "test accuracy" if "test" in best else "validation accuracy"
    gap = 100 * (measured - baseline)
    relation = (f"{abs(gap):.1f} percentage points {'above' if gap > 0 else 'below'}" if abs(gap) >= 0.5
                else "within half a percentage point of")
    text = (f"The published baseline for {data['title']} is about {pct(baseline)} test accuracy for logistic "
            f"regression ({data['published_baseline_source']}), trained on all {data['n_training_images']:,} training images. "
            f"The best ten-class run here, {label}, reaches a {what} of {best_value(best, what)} ({pct(measured)}), "
            f"{relation} the baseline, trained on the first {best['config']['train_size']:,} training images with "
            "plain mini-batch SGD and early stopping. ")
    if "test" in best:
        text += ("Under the holdout protocol this number is measured once, after training, on test images that "
                 "neither trained nor chose the weights, as the baseline's is.")
    else:
        text += ("Under the assignment's protocol the validation set is the test set and also chose the kept "
                 "weights, so this number is slightly optimistic; `--protocol holdout` measures it on untouched "
                 "test images.")
    return [("h2", "Comparison with the published baseline"), ("p", text)]
