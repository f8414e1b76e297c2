"""Explicit training state: ModelState survives copy and pickle, stop_training is settable, any
stopping callback is recorded, and the checkpoint gathers each component's state_dict."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from linclass.errors import LinclassError
from linclass.models import LogisticRegression, SoftmaxRegression
from linclass.runs import RunConfig, make_split
from linclass.training import Callback, EarlyStopping, ModelState, StopInfo, Trainer


def toy_problem(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.normal(size=(n, 3)), np.ones((n, 1))])
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)


class KeepState(Callback):
    def on_train_begin(self, trainer):
        self.state = trainer


class StopTrainerAt(Callback):
    """Holds the Trainer itself and stops it, Keras style."""

    def __init__(self, trainer, step):
        self.trainer, self.step = trainer, step

    def on_step_end(self, trainer, step):
        if step == self.step:
            self.trainer.stop_training = True


class StopStateAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_validation_end(self, trainer, step, logs):
        if step >= self.step:
            trainer.stop_training = True


def test_model_state_survives_deepcopy_and_pickle():
    X, y = toy_problem()
    keep = KeepState()
    LogisticRegression().fit(X, y, X, y, trainer=Trainer(learning_rate=0.1, batch_size=8, max_epochs=3,
                                                          callbacks=[keep, EarlyStopping(patience=50)]))
    state = keep.state
    assert isinstance(state, ModelState) and state.global_step == 24 and state.epoch == 3 and state.completed
    for clone in (copy.deepcopy(state), pickle.loads(pickle.dumps(state))):
        assert clone.global_step == 24 and clone.total_steps == 24 and clone.batches_per_epoch == 8
        assert clone.history == state.history and clone.last_logs == state.last_logs
        np.testing.assert_array_equal(clone.model.weights_, state.model.weights_)
        assert clone.early_stopping.best == state.early_stopping.best
        clone.stop_training = True
        assert not state.stop_training
    with pytest.raises(AttributeError):
        state.global_step = 3  # the shared progress is read-only for callbacks
    with pytest.raises(AttributeError, match="no attribute 'tpyo'"):
        state.tpyo  # noqa: B018 - a typo is an ordinary AttributeError of ModelState
    blank = ModelState.__new__(ModelState)
    with pytest.raises(AttributeError):
        blank.global_step  # noqa: B018 - an uninitialised state fails at once, no recursion


def test_callback_holding_the_trainer_stops_it_and_is_recorded():
    X, y = toy_problem()
    trainer = Trainer(learning_rate=0.1, batch_size=8, max_epochs=5)
    trainer.callbacks.append(StopTrainerAt(trainer, step=10))
    model = LogisticRegression().fit(X, y, X, y, trainer=trainer)
    assert trainer.stop_training
    assert model.early_stop_ == StopInfo(step=10, epoch=1, stopped_by="StopTrainerAt")
    assert model.n_steps_ == 11 and max(model.history_.train_loss_per_step) == 10


def test_custom_stopping_callback_on_its_state_is_recorded():
    X, y = toy_problem()
    model = LogisticRegression().fit(X, y, X, y, trainer=Trainer(learning_rate=0.1, batch_size=8, max_epochs=5,
                                                                 callbacks=[StopStateAt(5)]))
    # validations every 8 // 5 = 1 step: the first at or after step 5 stops
    assert model.early_stop_ == StopInfo(step=5, epoch=0, stopped_by="StopStateAt")
    assert model.n_steps_ == 6 and model.best_metrics_ == model.final_metrics_ == model.history_.validation[5]


def test_early_stopping_is_recorded_with_its_name():
    X, y = toy_problem()
    model = LogisticRegression().fit(X, y, X, y, trainer=Trainer(
        learning_rate=0.1, batch_size=8, max_epochs=50, callbacks=[EarlyStopping(patience=1, min_delta=1.0)]))
    assert model.early_stop_ == StopInfo(step=1, epoch=0, stopped_by="EarlyStopping")


def test_checkpoint_gathers_each_components_state_dict():
    X, y = toy_problem()
    trainer = Trainer(learning_rate=0.1, batch_size=8, max_epochs=2, callbacks=[EarlyStopping(patience=50)])
    models = [LogisticRegression(), LogisticRegression(l2_strength=0.5)]
    trainer.fit_many(models, X, y, X, y)
    state = trainer.checkpoint()
    assert set(state) == {"meta", "arrays", "histories"}
    assert set(state["arrays"]) == {"order", "weights", "weights_1", "best_weights", "best_weights_1"}
    assert state["meta"]["global_step"] == 16 and len(state["meta"]["lanes"]) == 2
    lane = state["meta"]["lanes"][1]
    assert set(lane) == {"last_logs", "stop_training", "stopped_early", "early_stopping"}
    assert lane["early_stopping"]["best_step"] == trainer.model_states[1].early_stopping.best_step
    np.testing.assert_array_equal(state["arrays"]["weights_1"], models[1].weights_)
    assert state["histories"][1] == models[1].history_
    pickle.loads(pickle.dumps(state))  # plain data


@pytest.mark.parametrize("bad", [{}, {"meta": {}, "arrays": {}, "histories": []}, "x"])
def test_resume_from_garbage_is_a_linclass_error(bad):
    X, y = toy_problem()
    with pytest.raises(LinclassError, match="resume_from must be the dict Trainer.checkpoint"):
        Trainer(batch_size=8, max_epochs=1).fit(LogisticRegression(), X, y, resume_from=bad)


def test_lock_step_across_learning_rates_and_l2_matches_separate_runs(mnist):
    """Models sharing a batch order may differ in learning rate and L2; each ends bit for bit as alone."""
    split = make_split(RunConfig(model="softmax").resolved(), mnist)
    grid = [(0.01, 0.0), (0.05, 0.0), (0.01, 1.0), (0.05, 0.01), (0.2, 0.001)]

    def trainer(rate=0.01):
        return Trainer(learning_rate=rate, max_epochs=3, shuffle=True, seed=2, callbacks=[EarlyStopping(patience=4)])

    together = [SoftmaxRegression(l2_strength=strength) for _, strength in grid]
    trainer().fit_many(together, split.X_train, split.y_train, split.X_val, split.y_val,
                       learning_rates=[rate for rate, _ in grid])
    for (rate, strength), joint in zip(grid, together):
        alone = SoftmaxRegression(l2_strength=strength).fit(split.X_train, split.y_train, split.X_val, split.y_val,
                                                            trainer=trainer(rate))
        assert joint.weights_.tobytes() == alone.weights_.tobytes()
        assert joint.history_ == alone.history_ and joint.early_stop_ == alone.early_stop_
        assert joint.final_weights_metrics_ == alone.final_weights_metrics_
        assert joint.best_metrics_ == alone.best_metrics_ and joint.n_steps_ == alone.n_steps_
    assert together[2].early_stop_ is not None and together[0].early_stop_ is None  # lanes really diverge
    assert together[0].history_ != together[1].history_  # learning rates really differ


@pytest.mark.parametrize("kwargs, message", [
    ({"learning_rates": [0.1]}, "learning_rates must be a list with one entry per model"),
    ({"learning_rates": [0.1, -1]}, r"learning_rates\[1\] must be a finite number > 0"),
    ({"callbacks_per_model": [[], 5]}, "callbacks_per_model must be a list of Callback objects"),
])
def test_fit_many_refuses_bad_arguments(kwargs, message):
    X, y = toy_problem()
    with pytest.raises(LinclassError, match=message):
        Trainer(batch_size=8, max_epochs=1).fit_many([LogisticRegression(), LogisticRegression()], X, y, **kwargs)
