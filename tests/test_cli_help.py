"""What a newcomer sees first: --version, every default in --help, and a refused option combination."""

from __future__ import annotations

import re

import pytest

from linclass import __version__
from linclass.cli import main
from linclass.cli.parser import build_parser


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"linclass {__version__}"


def _options(subcommand: str) -> dict[str, str]:
    """{option string: its help text} of one subcommand."""
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    parser = commands.choices[subcommand]
    return {action.option_strings[-1]: action.help or "" for action in parser._actions
            if action.option_strings and action.help != "==SUPPRESS==" and action.dest != "help"}


def test_train_help_states_every_default():
    options = _options("train")
    assert {"--model", "--dtype", "--out", "--epochs", "--lr", "--digits"} <= set(options)
    for option, text in options.items():
        if option in ("--resume",):
            continue  # an action, not a setting
        assert re.search(r"\(default: [^)]+\)", text), f"{option} does not state its default: {text!r}"
    assert "(default: softmax)" in options["--model"]
    assert "(default: float64)" in options["--dtype"]
    assert "(default: runs/latest)" in options["--out"]


def test_digits_with_softmax_is_refused_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "softmax", "--digits", "4", "9", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--digits" in err and "--model logistic" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_reproduce_help_states_every_default():
    options = _options("reproduce")
    assert {"--rules", "--seeds", "--jobs", "--out"} <= set(options)
    for option, text in options.items():
        assert re.search(r"\(default: [^)]+\)", text), f"{option} does not state its default: {text!r}"
    assert "(default: linclass)" in options["--rules"] and "(default: 1)" in options["--jobs"]
