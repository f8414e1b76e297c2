"""linclass evaluate: every number equals scikit-learn's on the same predictions; files and refusals."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from linclass.cli import main
from linclass.data import load_mnist
from linclass.evaluation import classification_report, confusion_matrix, evaluate, evaluation_set
from linclass.evaluation.evaluate import format_matrix
from linclass.prediction import class_digits, load_run
from linclass.preprocess import Split
from linclass.runs import make_split

metrics = pytest.importorskip("sklearn.metrics")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, mnist_dir):
    folder = tmp_path_factory.mktemp("evaluate")
    for name, options in (("softmax", ["--epochs", "2"]), ("logistic", ["--epochs", "3", "--digits", "5", "8"])):
        assert main(["train", "--model", name, *options, "--no-progress", "--data-dir", str(mnist_dir),
                     "--out", str(folder / name)]) == 0
    return folder


def _assert_equals_sklearn(result: dict, y_true: np.ndarray, y_pred: np.ndarray) -> None:
    names = result["classes"]
    expected = metrics.classification_report(y_true, y_pred, labels=list(range(len(names))), target_names=names,
                                             output_dict=True, zero_division=0)
    assert result["report"].keys() == expected.keys()
    for key, row in expected.items():
        if key == "accuracy":
            assert result["report"][key] == pytest.approx(row, abs=1e-12)
            continue
        assert result["report"][key].keys() == row.keys()
        for name, value in row.items():
            assert result["report"][key][name] == pytest.approx(value, abs=1e-12), (key, name)
    np.testing.assert_array_equal(result["confusion_matrix"], metrics.confusion_matrix(y_true, y_pred))
    assert result["accuracy"] == pytest.approx(metrics.accuracy_score(y_true, y_pred), abs=1e-12)


@pytest.mark.parametrize("model_name", ["softmax", "logistic"])
def test_every_number_equals_scikit_learn(runs, mnist_dir, capsys, model_name):
    run = runs / model_name
    assert main(["evaluate", str(run), "--data-dir", str(mnist_dir)]) == 0
    printed = capsys.readouterr().out
    out = run / "evaluation" / "val"
    assert sorted(p.name for p in out.iterdir()) == ["confusion_matrix.png", "confusion_matrix.svg",
                                                     "evaluation.json", "mistakes.png", "mistakes.svg"]
    result = json.loads((out / "evaluation.json").read_text())

    config, model = load_run(run)
    split = make_split(config, load_mnist(mnist_dir))
    y_pred = model.predict(split.X_val)
    _assert_equals_sklearn(result, split.y_val, y_pred)
    probs = model.predict_proba(split.X_val)
    if model_name == "logistic":
        assert result["classes"] == ["8", "5"]  # target 0 is the second digit
        loss = metrics.log_loss(split.y_val, probs, labels=[0, 1])
        probs = np.column_stack([1 - probs, probs])
    else:
        loss = metrics.log_loss(split.y_val, probs, labels=list(range(10)))
    assert result["loss"] == pytest.approx(loss, rel=1e-9)

    # The printed table and matrix carry the same numbers.
    assert f"loss {result['loss']:.6f}, accuracy {result['accuracy']:.6f}" in printed
    for name in result["classes"]:
        row = result["report"][name]
        assert (f"{name:>12} {row['precision']:9.4f} {row['recall']:9.4f} {row['f1-score']:9.4f} "
                f"{row['support']:8d}") in printed
    assert "true " + result["classes"][-1] in printed

    # The 25 most confident mistakes, most confident first, each really wrong.
    mistakes = result["mistakes"]
    assert len(mistakes) == 25
    confidence = [m["probability"] for m in mistakes]
    assert confidence == sorted(confidence, reverse=True)
    wrong = y_pred != split.y_val
    top = np.max(probs[wrong], axis=1)
    np.testing.assert_allclose(confidence, np.sort(top)[::-1][:25], rtol=1e-12)
    for mistake in mistakes:
        assert mistake["true"] == result["classes"][split.y_val[mistake["index"]]] != mistake["predicted"]


def test_train_split_and_out(runs, mnist_dir, tmp_path):
    out = tmp_path / "train-eval"
    assert main(["evaluate", str(runs / "softmax"), "--split", "train", "--out", str(out),
                 "--data-dir", str(mnist_dir)]) == 0
    result = json.loads((out / "evaluation.json").read_text())
    assert result["split"] == "train" and result["n_images"] == 20000 and result["dataset"] == "MNIST"
    assert (out / "mistakes.svg").read_text().startswith("<?xml")
    assert "20000 MNIST images of the training set" in (out / "mistakes.svg").read_text()  # titles name the dataset
    # An earlier evaluation is replaced; a folder with anything else is refused.
    assert main(["evaluate", str(runs / "softmax"), "--split", "train", "--out", str(out),
                 "--data-dir", str(mnist_dir)]) == 0
    assert main(["evaluate", str(runs / "softmax"), "--out", str(runs), "--data-dir", str(mnist_dir)]) == 2


def test_test_split_is_refused_under_the_report_protocol(runs, mnist_dir, tmp_path, capsys):
    # Refused before any data is read: with no dataset at hand, the error is still the split's.
    for data_dir in (mnist_dir, tmp_path / "no-data-here"):
        assert main(["evaluate", str(runs / "softmax"), "--split", "test", "--data-dir", str(data_dir)]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "validated on its dataset's test images" in error
    assert not (runs / "softmax" / "evaluation" / "test").exists()


def test_a_split_with_held_out_test_images_enables_test(runs, mnist):
    config, model = load_run(runs / "softmax")
    split = make_split(config, mnist)

    class HoldoutSplit(Split):  # what a later protocol with a hold-out would carry
        pass

    holdout = HoldoutSplit(split.X_train, split.y_train, split.X_val[:5000], split.y_val[:5000], 10, "holdout")
    object.__setattr__(holdout, "X_test", split.X_val[5000:])
    object.__setattr__(holdout, "y_test", split.y_val[5000:])
    data = evaluation_set(holdout, "test")
    result = evaluate(model, data, [str(d) for d in class_digits(config)])
    assert result["n_images"] == 5000 and "held-out" in result["description"]
    _assert_equals_sklearn(result, split.y_val[5000:], model.predict(split.X_val[5000:]))


def test_metrics_with_empty_classes_follow_scikit_learn():
    y_true = np.array([0, 0, 1, 1, 1, 3])
    y_pred = np.array([0, 1, 1, 1, 0, 1])  # class 2 never appears, class 3 is never predicted
    matrix = confusion_matrix(y_true, y_pred, 4)
    np.testing.assert_array_equal(matrix, metrics.confusion_matrix(y_true, y_pred, labels=[0, 1, 2, 3]))
    report = classification_report(matrix, ["a", "b", "c", "d"])
    expected = metrics.classification_report(y_true, y_pred, labels=[0, 1, 2, 3], target_names=["a", "b", "c", "d"],
                                             output_dict=True, zero_division=0)
    for key in ("a", "b", "c", "d", "macro avg", "weighted avg"):
        for name in ("precision", "recall", "f1-score", "support"):
            assert report[key][name] == pytest.approx(expected[key][name], abs=1e-12)


FASHION_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot"]


@pytest.mark.parametrize("names", [[str(k) for k in range(10)], ["3", "2"], ["Pullover", "Coat"], FASHION_NAMES],
                         ids=["digits", "two digits", "two names", "ten names"])
def test_printed_confusion_matrix_is_aligned(names):
    """Every count ends under its column's header, whatever the class names (long names: numbered columns)."""
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 10000, (len(names), len(names)))
    matrix[0, 0] = 9  # a one-digit count too
    lines = format_matrix(names, matrix.tolist(), digits=5)
    assert len(lines) == len(names) + 1 and len({len(line) for line in lines}) == 1
    header = lines[0]
    column_ends = [m.end() for m in re.finditer(r"\S+", header)]
    assert len(column_ends) == len(names) and max(map(len, lines)) <= 100
    for name, line, row in zip(names, lines[1:], matrix):
        assert line.startswith("true ") and name in line[:column_ends[0] - 5]
        for end, count in zip(column_ends, row):
            assert line[:end].endswith(str(count)) and line[end - len(str(count)) - 1] == " "


@pytest.mark.parametrize("names", [[str(k) for k in range(10)], FASHION_NAMES, ["Pullover", "Coat"]],
                         ids=["digits", "ten names", "two names"])
def test_figure_labels_never_overlap(names):
    """The confusion matrix's column labels, and the titles of the mistakes gallery, drawn side by side."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from linclass.evaluation import confusion_figure, mistakes_figure

    def overlapping(texts):
        boxes = sorted((t.get_window_extent(renderer) for t in texts if t.get_text()), key=lambda b: b.x0)
        return [(a, b) for a, b in zip(boxes, boxes[1:]) if a.x1 > b.x0 and a.y1 > b.y0 and b.y1 > a.y0]

    k = len(names)
    figure = confusion_figure(np.arange(k * k).reshape(k, k), names, "title")
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    labels = figure.axes[0].get_xticklabels()
    angle = math.radians(labels[0].get_rotation())
    if angle:  # parallel slanted labels: apart when the gap between their baselines exceeds their height
        x = [figure.axes[0].transData.transform((tick, 0))[0] for tick in range(k)]
        height = max(renderer.get_text_width_height_descent(t.get_text(), t.get_fontproperties(), ismath=False)[1]
                     for t in labels)
        assert min(np.diff(x)) * math.sin(angle) > height
    else:
        assert not overlapping(labels)

    mistakes = [{"true": names[i % k], "predicted": names[(i + 1) % k], "probability": 0.9} for i in range(10)]
    gallery = mistakes_figure(np.zeros((10, 28, 28), dtype=np.uint8), mistakes, "title")
    renderer = FigureCanvasAgg(gallery).get_renderer()
    gallery.draw(renderer)
    for row in range(2):  # the five titles of each row
        assert not overlapping([ax.title for ax in gallery.axes[5 * row:5 * row + 5]])
