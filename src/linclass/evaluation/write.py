"""Write an evaluation folder: evaluation.json and the figures, each file atomically."""

from __future__ import annotations

import os
from pathlib import Path

from .._io import atomic_dir, write_json
from ..errors import LinclassError
from .evaluate import SET_NAMES, pixels_of
from .figures import confusion_figure, mistakes_figure, save_figure


def write_evaluation(folder: str | os.PathLike, result: dict, X) -> list[str]:
    """Write result as folder/evaluation.json, confusion_matrix.{png,svg} and mistakes.{png,svg}.

    X: the (N, 785) features the result was computed on (the gallery shows their pixels). The
    folder appears complete or not at all; an earlier evaluation in it is replaced, any other
    non-empty folder is refused. Returns the names of the files written.
    """
    folder = Path(folder)
    if folder.exists() and not (folder / "evaluation.json").is_file() and (
            not folder.is_dir() or any(folder.iterdir())):
        raise LinclassError(f"{folder} exists and does not hold an earlier evaluation; choose another --out.")
    with atomic_dir(folder, force=True, replaceable=_earlier_evaluation) as tmp:
        return _write_files(tmp, result, X)


def _earlier_evaluation(folder: Path) -> str | None:
    """None when folder is empty or holds only an earlier evaluation (what atomic_dir may replace)."""
    if folder.is_symlink() or not folder.is_dir():
        return "not a folder"
    names = {path.name for path in folder.iterdir()}
    ours = {"evaluation.json"} | {f"{stem}.{ext}" for stem in ("confusion_matrix", "mistakes") for ext in ("png", "svg")}
    return None if not names or ("evaluation.json" in names and names <= ours) else "not an earlier evaluation"


def _write_files(folder: Path, result: dict, X) -> list[str]:
    images = f"{result['dataset']} images" if result.get("dataset") else "images"
    label = f"{result['n_images']} {images} of the {SET_NAMES[result['split']]}"
    written = save_figure(confusion_figure(result["confusion_matrix"], result["classes"],
                                           f"Confusion matrix: {label}\naccuracy {result['accuracy']:.4f}"),
                          folder, "confusion_matrix")
    rows = [mistake["index"] for mistake in result["mistakes"]]
    gallery = mistakes_figure(pixels_of(X[rows]) if rows else [], result["mistakes"],
                              f"The {len(rows)} most confident mistakes ({label})")
    written += save_figure(gallery, folder, "mistakes")
    write_json(folder / "evaluation.json", result | {"figures": written})
    return ["evaluation.json", *written]
