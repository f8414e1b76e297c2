"""The interactive widget of a trained model as an HTML fragment: markup, model data, CSS and JavaScript.

The fragment holds everything it needs (no network, no external file), so a page can hold several
side by side; the JavaScript (widget.js, normalize.js) is package data, shared by every copy.
"""

from __future__ import annotations

import base64
import html
import json
import re
from importlib import resources

import numpy as np

from ..errors import LinclassError

N_PIXELS = 28 * 28
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def asset(name: str) -> str:
    """The text of one of the widget's package files (widget.css, normalize.js, widget.js)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def pick_samples(images: np.ndarray, labels: np.ndarray, digits: list[int], per_class: int = 2):
    """(N, 28, 28) images and (N,) labels -> (M, 28, 28) uint8, (M,) labels: the first per_class of each digit.

    Ordered in rounds (the first image of every digit, then the second, ...), M <= per_class * len(digits).
    """
    labels = np.asarray(labels)
    picked = [np.flatnonzero(labels == digit)[:per_class] for digit in digits]
    rounds = [rows[r] for r in range(per_class) for rows in picked if r < len(rows)]
    rows = np.array(rounds, dtype=np.int64)
    return np.asarray(images)[rows].astype(np.uint8), labels[rows].astype(np.int64)


def model_data(weights: np.ndarray, digits: list, samples: np.ndarray, sample_labels: np.ndarray,
               title: str, subtitle: str = "", *, dataset: str = "MNIST", label_names: list[str] | None = None,
               drawing: bool = True) -> dict:
    """The JSON the widget reads: W (785, K_out) as little-endian float64 base64, and uint8 samples (M, 28, 28).

    digits: the name of each class index (two for the logistic model, whose W has one column): digits
    for MNIST, names for Fashion-MNIST. label_names: the name of each sample label (default: the label).
    drawing: False for a dataset that is not drawn digits: the page then takes only its test images.
    """
    W = np.asarray(weights, dtype="<f8")
    binary = W.ndim == 2 and W.shape[1] == 1
    if W.ndim != 2 or W.shape[0] != N_PIXELS + 1 or (W.shape[1] != len(digits) and not binary):
        raise LinclassError(f"weights must be (785, K) with K = {len(digits)} classes, or (785, 1) for the logistic "
                            f"model; got {W.shape}.")
    samples = np.asarray(samples, dtype=np.uint8).reshape(-1, N_PIXELS)
    return {"title": title, "subtitle": subtitle, "classes": [str(d) for d in digits], "binary": bool(binary),
            "outputs": int(W.shape[1]), "weights": base64.b64encode(np.ascontiguousarray(W).tobytes()).decode(),
            "samples": base64.b64encode(samples.tobytes()).decode(),
            "sample_labels": [int(label) for label in sample_labels], "dataset": dataset, "drawing": bool(drawing),
            "label_names": None if label_names is None else [str(name) for name in label_names]}


def widget_html(weights: np.ndarray, digits: list, samples: np.ndarray, sample_labels: np.ndarray, *,
                title: str, subtitle: str = "", widget_id: str = "linclass-widget", **dataset) -> str:
    """One self-contained widget as an HTML fragment (a <div>, its model as JSON, its CSS and JavaScript).

    weights: the model's W (785, K) or (785, 1); digits: the name of each class; samples: (M, 28, 28)
    clickable test images with their (M,) labels; dataset: model_data's dataset, label_names and drawing.
    Give each widget of a page its own widget_id.
    """
    if not _ID.match(widget_id):
        raise LinclassError(f"widget_id must be letters, digits, '-' or '_', starting with a letter; got {widget_id!r}.")
    data = json.dumps(model_data(weights, digits, samples, sample_labels, title, subtitle, **dataset),
                      separators=(",", ":"))
    data = data.replace("</", "<\\/")  # cannot end the <script> element early
    return (f'<style>{asset("widget.css")}</style>\n'
            f'<div class="lc-widget" id="{widget_id}" data-model="{widget_id}-model">'
            f'<noscript>This interactive page needs JavaScript.</noscript></div>\n'
            f'<script type="application/json" id="{widget_id}-model">{data}</script>\n'
            f'<script>\n{asset("normalize.js")}\n{asset("widget.js")}\n</script>\n')


def escape(text: str) -> str:
    return html.escape(text, quote=True)
