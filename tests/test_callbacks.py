"""Callbacks driven by scripted losses: early stopping with a baseline (Keras's meaning), keeping the
weights at the stop, and a progress bar that stays out of logs and ends at the real end."""

from __future__ import annotations

import io

import numpy as np
import pytest

from linclass.errors import LinclassError
from linclass.models import LogisticRegression
from linclass.training import EarlyStopping, ProgressBar, Trainer


class FakeModel:
    def __init__(self):
        self.weights = 0

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = weights


class FakeState:
    def __init__(self):
        self.model, self.stop_training, self.completed = FakeModel(), False, True


def run_script(stopper, losses):
    """Feed val losses to stopper; returns (state, index of the validation that stopped or None)."""
    state = FakeState()
    stopper.on_train_begin(state)
    for step, loss in enumerate(losses):
        state.model.weights = step
        stopper.on_validation_end(state, step, {"val_loss": loss})
        if state.stop_training:
            return state, step
    return state, None


def test_baseline_counts_every_validation_above_it():
    """The original code: best starts at 1.0, so losses above 1.0 never improve and patience runs from the first."""
    losses = [1.5, 1.4, 1.3, 1.2, 1.1, 1.05, 1.02, 1.01, 1.005, 1.001, 0.9]
    state, stopped = run_script(EarlyStopping(patience=10, baseline=1.0, restore_best_weights=False), losses)
    assert stopped == 9 and state.model.weights == 9
    _, stopped = run_script(EarlyStopping(patience=10), losses)
    assert stopped is None  # without a baseline each of these is an improvement


def test_baseline_then_best_so_far():
    stopper = EarlyStopping(patience=2, baseline=1.0)
    state, stopped = run_script(stopper, [1.2, 0.9, 0.95, 0.8, 0.85, 0.99])
    assert stopped == 5 and stopper.best == 0.8 and stopper.best_step == 3
    stopper.on_train_end(state)
    assert state.model.weights == 3  # restored to the best


def test_no_improvement_over_the_baseline_keeps_the_weights_at_the_stop():
    stopper = EarlyStopping(patience=2, baseline=0.5)
    state, stopped = run_script(stopper, [0.9, 0.8])
    assert stopped == 1 and stopper.best_weights is None and stopper.best_step is None
    stopper.on_train_end(state)
    assert state.model.weights == 1


def test_restore_best_weights_false_keeps_the_weights_at_the_stop():
    stopper = EarlyStopping(patience=2, restore_best_weights=False)
    state, stopped = run_script(stopper, [1.0, 0.8, 0.9, 0.95])
    assert stopped == 3 and stopper.best_step == 1 and stopper.best_weights is None
    stopper.on_train_end(state)
    assert state.model.weights == 3


@pytest.mark.parametrize("kwargs, message", [
    ({"min_delta": "x"}, "min_delta must be a finite number >= 0; got 'x'"),
    ({"min_delta": -1}, "min_delta"),
    ({"baseline": float("nan")}, "baseline must be None or a finite loss >= 0"),
    ({"baseline": -1.0}, "baseline"), ({"baseline": "1"}, "baseline"),
    ({"restore_best_weights": "yes"}, "restore_best_weights must be True or False"),
    ({"monitor": ["val_loss"]}, "monitor must be"), ({"monitor": "val_accuracy"}, "monitor must be"),
])
def test_bad_early_stopping_settings(kwargs, message):
    with pytest.raises(LinclassError, match=message):
        EarlyStopping(**kwargs)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def toy_problem(n=64):
    rng = np.random.default_rng(0)
    X = np.hstack([rng.normal(size=(n, 3)), np.ones((n, 1))])
    return X, (X[:, 0] > 0).astype(np.int64)


def test_progress_bar_writes_nothing_when_not_a_terminal():
    X, y = toy_problem()
    log = io.StringIO()
    LogisticRegression().fit(X, y, X, y, trainer=Trainer(batch_size=8, max_epochs=3,
                                                         callbacks=[ProgressBar(refresh_every=1, stream=log)]))
    assert log.getvalue() == ""


def test_progress_bar_ends_at_the_real_end_when_training_stops_early():
    X, y = toy_problem()
    terminal = FakeTerminal()
    bar = ProgressBar(refresh_every=1, stream=terminal)
    model = LogisticRegression().fit(X, y, X, y, trainer=Trainer(
        learning_rate=0.1, batch_size=8, max_epochs=100, callbacks=[EarlyStopping(patience=1, min_delta=1.0), bar]))
    assert model.n_steps_ == 2
    last_frame = terminal.getvalue().split("\r")[-1]
    assert "2/2" in last_frame and "100%" in last_frame and "stopped at step 1" in last_frame


def test_bad_trainer_arguments_are_linclass_errors():
    for kwargs, message in [({"seed": -1}, "seed must be an integer >= 0; got -1"),
                            ({"callbacks": 5}, "callbacks must be a list of Callback objects; got 5"),
                            ({"callbacks": [5]}, "callbacks must hold Callback objects"),
                            ({"shuffle": "no"}, "shuffle must be True or False"),
                            ({"max_loss": "big"}, "max_loss"), ({"stop_event": 3}, "stop_event"),
                            ({"threads": 0}, "threads")]:
        with pytest.raises(LinclassError, match=message):
            Trainer(**kwargs)


def test_more_bad_api_values_are_linclass_errors():
    from linclass.training import History

    X, y = toy_problem()
    cases = [(lambda: History().series("val_los"), "name must be 'train_loss_per_step' or one of"),
             (lambda: LogisticRegression().fit(X, y, trainer="fast"), "trainer must be a linclass Trainer"),
             (lambda: ProgressBar(refresh_every=0), "refresh_every must be an integer >= 1"),
             (lambda: Trainer(batch_size=8).fit_many([], X, y), "fit_many needs a list of one or more models"),
             (lambda: Trainer(batch_size=8).fit("model", X, y), "models must be LogisticRegression or Softmax"),
             (lambda: LogisticRegression().fit(X, y, X, trainer=Trainer(batch_size=8)), "y_val is missing; X_val and y_val go together")]
    for call, message in cases:
        with pytest.raises(LinclassError, match=message):
            call()
