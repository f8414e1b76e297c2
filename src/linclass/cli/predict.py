"""`linclass predict`: classify image files, .npy arrays or IDX files with a trained run."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

import numpy as np

from ..data import dataset_source
from ..errors import LinclassError
from ..prediction import (GARMENT_STEPS, NORMALIZATION_STEPS, class_digits, load_run, predict_images, prepare_images,
                          read_images, top_classes)
from .args import _positive_int


def _steps(steps) -> str:
    return "\n".join(textwrap.fill(step, 96, initial_indent=f"  {n}. ", subsequent_indent="     ")
                     for n, step in enumerate(steps, 1))


def add_predict_parser(commands) -> None:
    """Add `linclass predict` and its options to the subcommands."""
    description = "\n".join([
        textwrap.fill("Classify images with the model of a run folder. FILE is a PNG, JPEG, BMP or GIF picture, a "
                      ".npy array of shape (28, 28) or (N, 28, 28) with pixels in 0-255, or an IDX image file "
                      "(such as MNIST's t10k-images-idx3-ubyte). Each image is first brought into the form of the "
                      "run's dataset, as that dataset was made. For an MNIST run (a digit):", 100),
        _steps(NORMALIZATION_STEPS), "For a Fashion-MNIST run (a photographed garment):", _steps(GARMENT_STEPS),
        textwrap.fill("--as-is skips these steps for images that already are 28 x 28 in the dataset's form (light "
                      "on black). A file that cannot be used is reported in one line naming it; the other files are "
                      "still predicted, and the exit code is then 2.", 100)])
    predict = commands.add_parser("predict", help="classify your own images with a trained run",
                                  formatter_class=argparse.RawDescriptionHelpFormatter, description=description)
    predict.add_argument("run_dir", help="a folder written by 'linclass train'")
    predict.add_argument("files", nargs="+", metavar="FILE", help="images to classify")
    predict.add_argument("--top", type=_positive_int, default=3, metavar="K",
                         help="print the K most probable classes, all of them when the run has K or fewer "
                         "(default: 3)")
    predict.add_argument("--as-is", action="store_true",
                         help="use 28 x 28 images in the dataset's form unchanged (default: normalise them)")
    predict.add_argument("--json", action="store_true", help="print one JSON object per file (default: one text line per image)")
    predict.set_defaults(run=cmd_predict)


def cmd_predict(args) -> int:
    config, model = load_run(args.run_dir)
    digits = class_digits(config)
    if config.dataset != "mnist":
        digits = [dataset_source(config.dataset).class_label(index) for index in digits]  # class names
    failed = False
    for path in args.files:
        try:
            tops = _predicted(model, path, args, config.dataset, digits)
        except LinclassError as exc:
            failed = True
            print(f"linclass: error: {path}: {exc}", file=sys.stderr)
            if args.json:
                print(json.dumps({"file": path, "error": str(exc)}), flush=True)
            continue
        if args.json:
            print(json.dumps({"file": path, "predictions": [
                {"class": top[0][0], "top": [{"class": c, "probability": p} for c, p in top]} for top in tops]}),
                flush=True)
            continue
        for index, top in enumerate(tops):
            name = path if len(tops) == 1 else f"{path}[{index}]"
            print(f"{name}: {top[0][0]}  (" + ", ".join(f"{c}: {p:.4f}" for c, p in top) + ")", flush=True)
    return 2 if failed else 0


IMAGES_AT_ONCE = 4096  # a file's images are normalised and predicted this many at a time: memory stays small


def _predicted(model, path: str, args, dataset: str, names: list) -> list:
    """The top classes of every image of one file, in equal slices of at most IMAGES_AT_ONCE images: none
    thin (over IMAGES_AT_ONCE images, each has more than half of it), so every product takes the path of
    one product over the whole file and every probability has the bits it would have in one piece."""
    images, tops = read_images(path), []
    bounds = np.linspace(0, len(images), -(-len(images) // IMAGES_AT_ONCE) + 1).astype(int)
    for first, stop in zip(bounds[:-1], bounds[1:]):
        prepared = prepare_images(images[first:stop], args.as_is, dataset, int(first), len(images))
        tops += top_classes(predict_images(model, prepared), names, args.top)
    return tops
