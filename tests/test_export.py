"""linclass export: one self-contained page under 1 MB, the embeddable widget fragment, refusals."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest

from linclass.cli import main
from linclass.errors import LinclassError
from linclass.export import model_data, page_html, pick_samples, widget_html
from linclass.prediction import load_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory, mnist_dir):
    folder = tmp_path_factory.mktemp("export")
    for name, options in (("softmax", ["--epochs", "1", "--l2", "0.01"]), ("logistic", ["--epochs", "2"])):
        assert main(["train", "--model", name, *options, "--no-progress", "--data-dir", str(mnist_dir),
                     "--out", str(folder / name)]) == 0
    return folder


def _model_json(text: str, widget_id: str = "linclass-widget") -> dict:
    found = re.search(f'<script type="application/json" id="{widget_id}-model">(.*?)</script>', text, re.S)
    return json.loads(found.group(1))


@pytest.mark.parametrize("name, classes, outputs", [("softmax", [str(d) for d in range(10)], 10),
                                                     ("logistic", ["3", "2"], 1)])
def test_page_is_one_small_self_contained_file(runs, mnist_dir, tmp_path, capsys, name, classes, outputs):
    page = tmp_path / "page.html"
    assert main(["export", str(runs / name), "--html", str(page), "--data-dir", str(mnist_dir)]) == 0
    size = page.stat().st_size
    assert f"({size} bytes" in capsys.readouterr().out and size < 1_000_000
    text = page.read_text()
    assert "http://" not in text and "https://" not in text  # no URL at all, so nothing to fetch
    assert not re.search(r"<(link|img|iframe|object|embed)\b|\bsrc=|@import|url\(", text)
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    data = _model_json(text)
    assert data["classes"] == classes and data["outputs"] == outputs and data["binary"] == (outputs == 1)
    _, model = load_run(runs / name)
    weights = np.frombuffer(base64.b64decode(data["weights"]), dtype="<f8").reshape(785, outputs)
    np.testing.assert_array_equal(weights, model.weights_)  # exact: the page computes what Python computes
    assert len(data["sample_labels"]) == 20 and {str(d) for d in data["sample_labels"]} == set(classes)


def test_two_widgets_side_by_side_in_one_page(runs, mnist):
    fragments = []
    for n, name in enumerate(("softmax", "logistic")):
        config, model = load_run(runs / name)
        samples, labels = pick_samples(mnist.test_images, mnist.test_labels, list(range(10)), per_class=1)
        digits = [3, 2] if name == "logistic" else list(range(10))
        fragments.append(widget_html(model.get_weights(), digits, samples, labels, title=name, widget_id=f"w{n}"))
    text = page_html(fragments, "two models")
    assert text.count('class="lc-widget"') == 2 and _model_json(text, "w1")["classes"] == ["3", "2"]
    # The JavaScript starts only once and then picks up every widget (see widget.js: start()).
    assert text.count("if (window.linclass && window.linclass.start)") == 2


def test_samples_are_the_first_of_each_digit_in_rounds(mnist):
    samples, labels = pick_samples(mnist.test_images, mnist.test_labels, [3, 2], per_class=3)
    assert labels.tolist() == [3, 2, 3, 2, 3, 2]
    first_three = np.flatnonzero(mnist.test_labels == 3)[0]
    np.testing.assert_array_equal(samples[0], mnist.test_images[first_three])


def test_refusals(runs, tmp_path, capsys, mnist):
    assert main(["export", str(tmp_path / "nothing"), "--html", str(tmp_path / "p.html")]) == 2
    assert main(["export", str(runs / "softmax"), "--html", str(tmp_path / "no" / "p.html")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and "is not a folder" in errors[0] and "does not exist" in errors[1]
    assert not (tmp_path / "p.html").exists()
    with pytest.raises(LinclassError, match="widget_id"):
        widget_html(np.zeros((785, 10)), list(range(10)), mnist.test_images[:1], [7], title="t", widget_id="1 bad")
    with pytest.raises(LinclassError, match="785"):
        model_data(np.zeros((784, 10)), list(range(10)), mnist.test_images[:1], [7], title="t")


FASHION_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot"]


def test_an_existing_file_is_replaced_only_with_force_and_only_if_linclass_wrote_it(runs, mnist_dir, tmp_path,
                                                                                      capsys):
    export = ["export", str(runs / "softmax"), "--data-dir", str(mnist_dir), "--html"]
    mine, page, link = tmp_path / "README.md", tmp_path / "page.html", tmp_path / "link.html"
    mine.write_text("my own notes\n")
    for force in ([], ["--force"]):  # a file the user owns: refused either way, and left as it was
        assert main([*export, str(mine), *force]) == 2
        error = capsys.readouterr().err.strip()
        assert "\n" not in error and str(mine) in error
        assert ("--force to replace it" if not force else "it is not a page linclass wrote") in error
        assert mine.read_text() == "my own notes\n"
    assert main([*export, str(page)]) == 0
    first = page.read_bytes()
    page.write_bytes(first.replace(b"<title>", b"<title>old "))
    assert main([*export, str(page)]) == 2 and "already exists" in capsys.readouterr().err
    assert main([*export, str(page), "--force"]) == 0 and page.read_bytes() == first  # its own page: replaced
    link.symlink_to(page)
    assert main([*export, str(link), "--force"]) == 2 and "not a page linclass wrote" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["README.md", "link.html", "page.html"]



@pytest.mark.parametrize("model, classes", [("softmax", FASHION_NAMES), ("logistic", ["T-shirt/top", "Shirt"])])
def test_fashion_page_takes_test_images_by_name(tmp_path, fashion_dir, fashion, capsys, model, classes):
    """A Fashion-MNIST run's page: its class names, its own test images (two or ten of each class), no drawing."""
    run, page = tmp_path / "run", tmp_path / "page.html"
    assert main(["train", "--dataset", "fashion-mnist", "--model", model, "--epochs", "1", "--no-progress",
                 "--data-dir", str(fashion_dir), "--out", str(run)]) == 0
    assert main(["export", str(run), "--html", str(page), "--data-dir", str(fashion_dir)]) == 0
    text = page.read_text()
    data = _model_json(text)
    assert data["classes"] == classes and data["drawing"] is False and data["dataset"] == "Fashion-MNIST"
    assert data["label_names"] == FASHION_NAMES
    samples = np.frombuffer(base64.b64decode(data["samples"]), dtype=np.uint8).reshape(-1, 28, 28)
    labels = np.array(data["sample_labels"])
    assert len(labels) == 20 and {FASHION_NAMES[k] for k in labels} == set(classes)
    first = np.flatnonzero(fashion.test_labels == labels[0])[0]
    np.testing.assert_array_equal(samples[0], fashion.test_images[first])
    assert "has no drawing area" in text and page.stat().st_size < 1_000_000
