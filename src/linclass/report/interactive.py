"""Task 4's interactive figure: the lambda = 0 and lambda = 1 models side by side, each as the widget
of `linclass export`, linked so that one drawing (or one clicked test image) is shown to both."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._io import atomic_file
from ..export import pick_samples, widget_html
from .data_cache import dataset
from .plan import LAMBDAS

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
                        test_labels: np.ndarray, class_names: list[str]) -> str:
    """Write figures/task4_interactive.html (an HTML fragment) for the lambda-0 and strongest-lambda models.

    weights: {lambda: W (785, 10)}; test_images (N, 28, 28) uint8 with labels (N,) give the clickable
    samples (two of each class). Returns the fragment's path relative to the report folder.
    """
    digits = list(range(len(class_names)))
    samples, labels = pick_samples(test_images, test_labels, digits, per_class=2)
    ids = ("lc-lambda-0", f"lc-lambda-{max(LAMBDAS):g}".replace(".", "-"))
    parts = [widget_html(weights[0.0], digits, samples, labels, widget_id=ids[0],
                         title="Softmax regression, λ = 0 (no L2)",
                         subtitle="draw here or in the other model: both see the same input"),
             widget_html(weights[max(LAMBDAS)], digits, samples, labels, widget_id=ids[1],
                         title=f"Softmax regression, λ = {max(LAMBDAS):g}",
                         subtitle="the same input, judged by the most penalised model")]
    fragment = (_PAIR_CSS + '\n<div class="lc-pair">\n' + "\n".join(parts) + "</div>\n"
                + _LINK_SCRIPT % ids)
    path = Path(figures) / f"{STEM}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, "w") as handle:
        handle.write(fragment)
    return f"figures/{STEM}.html"


def task4_widgets(figures: Path, results: dict, data_dir: str | None) -> str:
    """write_task4_widgets for task 4's lambda-0 and strongest-lambda runs ({name: Result}), on MNIST's test images."""
    weights = {0.0: results["task3_softmax_lambda_0"].weights,
               max(LAMBDAS): results[f"task4_softmax_lambda_{max(LAMBDAS):g}"].weights}
    mnist = dataset("mnist", data_dir)
    return write_task4_widgets(figures, weights, mnist.test_images, mnist.test_labels,
                               [str(digit) for digit in range(10)])
