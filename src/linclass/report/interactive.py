"""Task 4's interactive figure: the lambda = 0 and lambda = 1 models side by side, each as the widget
of `linclass export`, linked so that one drawing (MNIST) or one clicked test image is shown to both."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._io import atomic_file
from ..export import pick_samples, widget_html
from .data_cache import dataset
from .plan import LAMBDAS
from .sections_data import block_is_digits

STEM = "task4_interactive"

# The pair fills the page's width on a wide screen (two columns), one under the other on a phone.
_PAIR_CSS = """<style>
.lc-pair{display:grid;gap:1rem;grid-template-columns:minmax(0,1fr);margin:1rem 0}
@media (min-width:1100px){.lc-pair{grid-template-columns:minmax(0,1fr) minmax(0,1fr);
  width:min(96vw,1500px);position:relative;left:50%;transform:translateX(-50%)}}
.lc-pair .lc-widget{max-width:none;margin:0}
.lc-pair .lc-grid{grid-template-columns:minmax(0,1fr) minmax(0,1fr)!important;
  grid-template-areas:"draw probs" "evidence evidence" "samples samples" "templates templates"!important}
.lc-pair .lc-template-grid{grid-template-columns:repeat(5,minmax(0,1fr))!important}
@media (max-width:560px){.lc-pair .lc-grid{grid-template-columns:minmax(0,1fr)!important;
  grid-template-areas:"draw" "probs" "evidence" "samples" "templates"!important}}
</style>"""

# After both widgets have started: whatever one of them shows (a drawing or a test image), the other
# shows too, with the drawing copied onto its canvas, so the two models judge the same 28 x 28 input.
_LINK_SCRIPT = """<script>
(function () {
  var pair = (window.linclass.widgets || []).slice(-2), busy = false;
  if (pair.length < 2) return;
  var roots = ["%s", "%s"].map(function (id) { return document.getElementById(id); });
  pair.forEach(function (widget, i) {
    var other = pair[1 - i], own = widget.show;
    widget.show = function (pixels, source) {
      own(pixels, source);
      if (busy) return;
      busy = true;
      var from = roots[i].querySelector("canvas.lc-canvas"), to = roots[1 - i].querySelector("canvas.lc-canvas");
      if (from && to) { to.getContext("2d").drawImage(from, 0, 0, to.width, to.height); }
      other.show(pixels, source);
      busy = false;
    };
  });
  pair[0].show(pair[0].input, pair[0].source);
})();
</script>"""


def write_task4_widgets(figures: Path, weights: dict[float, np.ndarray], test_images: np.ndarray,
                        test_labels: np.ndarray, class_names: list[str], *, drawing: bool = True,
                        dataset_title: str = "MNIST") -> str:
    """Write figures/task4_interactive.html (an HTML fragment) for the lambda-0 and strongest-lambda models.

    weights: {lambda: W (785, 10)}; test_images (N, 28, 28) uint8 with labels (N,) give the clickable
    samples (two of each class); drawing: whether the widgets take drawings (MNIST's digits) or only
    test images. Returns the fragment's path relative to the report folder.
    """
    classes = list(range(len(class_names)))
    samples, labels = pick_samples(test_images, test_labels, classes, per_class=2)
    ids = ("lc-lambda-0", f"lc-lambda-{max(LAMBDAS):g}".replace(".", "-"))
    shared = {"dataset": dataset_title, "label_names": None if drawing else class_names, "drawing": drawing}
    where = "draw here or in the other model" if drawing else "click a test image in either model"
    parts = [widget_html(weights[0.0], class_names, samples, labels, widget_id=ids[0],
                         title="Softmax regression, λ = 0 (no L2)", subtitle=f"{where}: both see the same input",
                         **shared),
             widget_html(weights[max(LAMBDAS)], class_names, samples, labels, widget_id=ids[1],
                         title=f"Softmax regression, λ = {max(LAMBDAS):g}",
                         subtitle="the same input, judged by the most penalised model", **shared)]
    fragment = (_PAIR_CSS + '\n<div class="lc-pair">\n' + "\n".join(parts) + "</div>\n"
                + _LINK_SCRIPT % ids)
    path = Path(figures) / f"{STEM}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, "w") as handle:
        handle.write(fragment)
    return f"figures/{STEM}.html"


def task4_widgets(figures: Path, results: dict, data_dir: str | None, data: dict) -> str:
    """write_task4_widgets for task 4's lambda-0 and strongest-lambda runs ({name: Result}), on the test images
    of the report's dataset (data: summary.dataset_block())."""
    weights = {0.0: results["task3_softmax_lambda_0"].weights,
               max(LAMBDAS): results[f"task4_softmax_lambda_{max(LAMBDAS):g}"].weights}
    images = dataset(data["name"], data_dir)
    return write_task4_widgets(figures, weights, images.test_images, images.test_labels, list(data["class_names"]),
                               drawing=block_is_digits(data), dataset_title=data["title"])
