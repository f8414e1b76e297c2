"""A standalone HTML page around one or more widgets, and the page of one trained run."""

from __future__ import annotations

import os
from pathlib import Path

from .._io import atomic_file
from ..errors import LinclassError
from .widget import escape, pick_samples, widget_html

MAX_BYTES = 1_000_000
# Nothing may be fetched: scripts and styles are inline, pictures are drawn on canvases.
_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<meta name="generator" content="linclass">
<title>{title}</title>
<style>
body {{ margin: 0; padding: 1rem; background: #f5f6f8; }}
.lc-page-intro {{ max-width: 1200px; margin: 0 auto 1rem; font: 14px/1.5 system-ui, sans-serif; color: #5b6475; }}
@media (max-width: 480px) {{ body {{ padding: 0.5rem; }} }}
</style>
</head>
<body>
{body}
<p class="lc-page-intro">{intro}</p>
</body>
</html>
"""

INTRO = ("Your drawing is brought into MNIST's form before the model sees it: grayscale, inverted to a light "
         "digit on black, cropped to the ink, the longer side scaled to 20 pixels, and placed in a 28 \u00d7 28 "
         "frame by its centre of mass, the same steps as 'linclass predict'. Everything runs in this page; "
         "nothing is sent anywhere.")


def page_html(fragments: list[str], title: str, intro: str = INTRO) -> str:
    """A complete HTML document holding the given widget fragments, one after the other."""
    return _PAGE.format(policy=_POLICY, title=escape(title), body="\n".join(fragments), intro=escape(intro))


PICK_INTRO = ("Click a {dataset} test image: the model is given its 28 \u00d7 28 pixels as they are ({dataset} "
              "images are not drawn, so this page has no drawing area). Everything runs in this page; nothing is "
              "sent anywhere.")


def run_page(model, classes: list[int], data, title: str, subtitle: str, *, class_names: list[str] | None = None,
             drawing: bool = True, dataset: str = "MNIST") -> str:
    """The page of one trained run: its widget, with two test images of each class (ten of each class for
    the logistic model) to click. classes: the dataset's class of each model output; data: the dataset
    (test_images, test_labels); class_names: the dataset's class names (default: the class numbers);
    drawing: whether the page also takes drawings (MNIST's digits)."""
    per_class = 2 if len(classes) > 2 else 10
    samples, labels = pick_samples(data.test_images, data.test_labels, classes if len(classes) > 2 else classes[::-1],
                                   per_class)
    names = [str(k) for k in range(max(classes) + 1)] if class_names is None else list(class_names)
    widget = widget_html(model.get_weights(), [names[k] for k in classes], samples, labels, title=title,
                         subtitle=subtitle, dataset=dataset, label_names=names, drawing=drawing)
    return page_html([widget], title, INTRO if drawing else PICK_INTRO.format(dataset=dataset))


GENERATOR = b'<meta name="generator" content="linclass">'  # how a page says linclass wrote it


def _written_by_linclass(path: Path) -> bool:
    """Whether path is a regular file (not a link) whose head carries GENERATOR."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        with open(path, "rb") as handle:
            return GENERATOR in handle.read(4096)
    except OSError:
        return False


def check_destination(path: str | os.PathLike, force: bool = False) -> Path:
    """path, if its folder exists and it is new, or (force) a page linclass wrote: checked before any
    work is done and again before writing. A file the user owns is never replaced."""
    path = Path(path)
    if not path.parent.is_dir():
        raise LinclassError(f"cannot write {path}: folder {path.parent} does not exist.")
    if path.is_dir():
        raise LinclassError(f"cannot write {path}: it is a folder; give a file name such as {path / 'model.html'}.")
    if os.path.lexists(path) and not force:
        raise LinclassError(f"{path} already exists; choose another --html, or pass --force to replace it (only a "
                            "page linclass wrote).")
    if os.path.lexists(path) and not _written_by_linclass(path):
        raise LinclassError(f"refusing to replace {path}: it is not a page linclass wrote; choose another --html "
                            "(or move that file away yourself).")
    return path


def write_page(path: str | os.PathLike, text: str, force: bool = False) -> int:
    """Write the page atomically (an existing file only with force, and only a page linclass wrote: see
    check_destination); refuse pages of MAX_BYTES or more. Returns the size in bytes."""
    data = text.encode("utf-8")
    if len(data) >= MAX_BYTES:
        raise LinclassError(f"the page would be {len(data)} bytes; it must stay under {MAX_BYTES}.")
    path = check_destination(path, force)
    try:
        with atomic_file(path) as handle:
            handle.write(data)
    except OSError as exc:
        raise LinclassError(f"cannot write {path}: {exc.strerror}.") from exc
    return len(data)
