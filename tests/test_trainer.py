"""The SGD trainer: schedule, shuffling, early stopping, determinism, and the report's results."""

from __future__ import annotations

import numpy as np
import pytest

from linclass.training import Callback, EarlyStopping
from linclass.errors import LinclassError
from linclass.runs import RunConfig, make_split, summarize, train
from linclass.models import LogisticRegression, SoftmaxRegression
from linclass.training import Trainer, TrainingDiverged


def toy_problem(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.normal(size=(n, 3)), np.ones((n, 1))])
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


class FakeModel:
    def __init__(self):
        self.weights = 0

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = weights


class FakeTrainer:
    def __init__(self):
        self.model, self.stop_training = FakeModel(), False


def test_early_stopping_on_scripted_losses():
    stopper, trainer = EarlyStopping(patience=2), FakeTrainer()
    stopper.on_train_begin(trainer)
    for step, loss in enumerate([1.0, 0.8, 0.9, 0.95]):
        trainer.model.weights = step
        assert not trainer.stop_training
        stopper.on_validation_end(trainer, step, {"val_loss": loss})
    assert trainer.stop_training and stopper.best_step == 1
    trainer.model.weights = "last"
    stopper.on_train_end(trainer)
    assert trainer.model.weights == 1
    stopper.on_train_begin(trainer)  # reusable: all state reset
    assert stopper.best == np.inf and stopper.wait == 0 and stopper.best_weights is None


class Recorder(Callback):
    def on_train_begin(self, trainer):
        self.orders, self.validations = [], []

    def on_step_end(self, trainer, step):
        if trainer.batch_index == 0:
            self.orders.append(None if trainer.order is None else trainer.order.copy())

    def on_validation_end(self, trainer, step, logs):
        self.validations.append(step)


def test_schedule_drops_last_batch_and_validates_every_fifth_of_an_epoch():
    X, y = toy_problem(n=103)  # 10 full batches of 10, 3 rows dropped
    recorder = Recorder()
    model = LogisticRegression().fit(X, y, X, y, trainer=Trainer(
        learning_rate=0.1, batch_size=10, max_epochs=3, shuffle=True, seed=5, callbacks=[recorder]))
    assert model.n_steps_ == 30 and sorted(model.history_.train_loss_per_step) == list(range(30))
    assert recorder.validations == list(range(0, 30, 2))  # 10 // 5 = 2
    assert sorted(model.history_.validation) == recorder.validations
    for order in recorder.orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(103))
    assert not np.array_equal(recorder.orders[0], recorder.orders[1])


def test_same_seed_same_order_and_weights():
    X, y = toy_problem()

    def fit(seed):
        return LogisticRegression().fit(X, y, trainer=Trainer(learning_rate=0.1, batch_size=8,
                                                              max_epochs=4, shuffle=True, seed=seed))

    np.testing.assert_array_equal(fit(3).weights_, fit(3).weights_)
    assert not np.array_equal(fit(3).weights_, fit(4).weights_)


def test_one_step_matches_the_gradient_formula():
    X, y = toy_problem(n=16)
    model = SoftmaxRegression(n_classes=2, l2_strength=0.05).fit(
        X, y, trainer=Trainer(learning_rate=0.5, batch_size=16, max_epochs=1, shuffle=False))
    Y = np.eye(2)[y]
    expected = -0.5 * (-X.T @ (Y - 0.5) / 16)  # zero weights: every probability is 1/2, L2 term is 0
    np.testing.assert_allclose(model.weights_, expected, rtol=1e-12)
    assert model.history_.train_loss_per_step[0] == pytest.approx(np.log(2))


def test_zero_initialised_weights_and_estimator_api():
    X, y = toy_problem()
    model = LogisticRegression()
    with pytest.raises(LinclassError, match="call fit first"):
        model.predict(X)
    model.fit(X, y, trainer=Trainer(learning_rate=0.5, batch_size=8, max_epochs=20))
    assert model.weights_.shape == (4, 1)
    probabilities = model.predict_proba(X)
    assert probabilities.shape == (64,) and np.all((0 <= probabilities) & (probabilities <= 1))
    np.testing.assert_array_equal(model.predict(X), (probabilities >= 0.5).astype(int))
    assert model.score(X, y) > 0.9


def test_float32_option_keeps_float32():
    X, y = toy_problem()
    model = SoftmaxRegression(n_classes=2).fit(X.astype(np.float32), y, trainer=Trainer(max_epochs=2, batch_size=8))
    assert model.weights_.dtype == np.float32


@pytest.mark.parametrize("kwargs, message", [
    ({"learning_rate": 0}, "learning_rate"), ({"learning_rate": float("nan")}, "learning_rate"),
    ({"batch_size": 0}, "batch_size"), ({"max_epochs": 0}, "max_epochs"), ({"learning_rate": "fast"}, "learning_rate"),
])
def test_bad_hyperparameters(kwargs, message):
    with pytest.raises(LinclassError, match=message):
        Trainer(**kwargs)


def test_batch_larger_than_training_set():
    X, y = toy_problem(n=10)
    with pytest.raises(LinclassError, match="batch_size"):
        LogisticRegression().fit(X, y, trainer=Trainer(batch_size=11))


def test_deterministic_regression_binary_two_vs_three(mnist):
    """The report's task 2: 2 vs 3, shuffle off, lr 0.05, batch 128, patience 10, float64."""
    config = RunConfig(model="logistic", classes=(2, 3), learning_rate=0.05, batch_size=128,
                       max_epochs=500, shuffle=False, patience=10, dtype="float64")
    model = train(config, make_split(config.resolved(), mnist))
    summary = summarize(model)
    assert summary["early_stop"] == {"step": 1038, "epoch": 33}
    assert summary["steps"] == 1039 and summary["best_step"] == 978
    expected_at_stop = {"train_loss": 0.07088705555893647, "val_loss": 0.06577187753329565,
                        "train_accuracy": 0.9757802746566792, "val_accuracy": 0.9794319294809011}
    expected_best = {"train_loss": 0.07086160223775247, "val_loss": 0.06569048761708117,
                     "train_accuracy": 0.9760299625468165, "val_accuracy": 0.9789422135161606}
    for name, value in expected_at_stop.items():
        assert summary["at_stop"][name] == pytest.approx(value, abs=1e-9), name
    for name, value in expected_best.items():
        assert summary["best"][name] == pytest.approx(value, abs=1e-9), name
    # The kept weights are those of the best validation loss, and give its metrics again.
    split = make_split(config.resolved(), mnist)
    assert model.score(split.X_val, split.y_val) == pytest.approx(expected_best["val_accuracy"], abs=1e-12)
    assert summary["weight_norm"] == pytest.approx(2.001095010742001, abs=1e-9)


def test_softmax_fifty_epochs_reaches_ninety_percent(mnist):
    config = RunConfig(model="softmax").resolved()
    model = train(config, make_split(config, mnist))
    assert model.best_metrics_["val_accuracy"] > 0.90
    assert model.final_metrics_["val_accuracy"] > 0.90


def test_divergence_stops_at_once_and_keeps_the_last_weights(mnist):
    config = RunConfig(model="softmax", learning_rate=1e6, max_epochs=2).resolved()
    split = make_split(config, mnist)
    recorder = Recorder()
    model = SoftmaxRegression()
    with pytest.raises(TrainingDiverged, match=r"diverged at step 1 \(epoch 0\).*Lower the learning rate"):
        model.fit(split.X_train, split.y_train, split.X_val, split.y_val,
                  trainer=Trainer(learning_rate=1e6, callbacks=[EarlyStopping(), recorder]))
    # Step 0 (from zero weights) was taken; step 1's loss exploded, so its update was not applied.
    assert np.isfinite(model.weights_).all() and np.abs(model.weights_).max() > 0
    assert list(model.history_.train_loss_per_step) == [0]
    assert issubclass(TrainingDiverged, ValueError)


def test_divergence_through_the_cli_is_one_line(tmp_path, mnist_dir, capsys):
    from linclass.cli import main

    out = tmp_path / "run"
    assert main(["train", "--lr", "1e6", "--no-progress", "--data-dir", str(mnist_dir), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("linclass: error: training diverged at step 1") and not out.exists()


def test_lock_step_sweep_matches_separate_runs_bit_for_bit(mnist):
    """fit_many shares batches and products; every model must still end exactly as fit leaves it."""
    split = make_split(RunConfig(model="softmax").resolved(), mnist)
    strengths = (0.0, 1.0, 0.01)

    def trainer():
        return Trainer(learning_rate=0.01, max_epochs=4, shuffle=True, seed=1, callbacks=[EarlyStopping(patience=3)])

    together = [SoftmaxRegression(l2_strength=s) for s in strengths]
    trainer().fit_many(together, split.X_train, split.y_train, split.X_val, split.y_val)
    stops = []
    for strength, joint in zip(strengths, together):
        alone = SoftmaxRegression(l2_strength=strength).fit(split.X_train, split.y_train, split.X_val, split.y_val,
                                                            trainer=trainer())
        np.testing.assert_array_equal(joint.weights_, alone.weights_)
        assert joint.history_ == alone.history_
        assert joint.early_stop_ == alone.early_stop_ and joint.n_steps_ == alone.n_steps_
        assert joint.best_metrics_ == alone.best_metrics_ and joint.final_metrics_ == alone.final_metrics_
        stops.append(joint.early_stop_)
    assert stops[1] is not None and stops[0] is None  # lambda 1 stops early, lambda 0 trains on: lanes diverge


def test_train_many_refuses_runs_that_differ_in_more_than_learning_rate_and_l2(mnist):
    from linclass.runs import train_many

    split = make_split(RunConfig(model="softmax").resolved(), mnist)
    with pytest.raises(LinclassError, match="differ only in learning_rate, l2_strength"):
        train_many([RunConfig(model="softmax", l2_strength=0.1, learning_rate=0.1), RunConfig(model="softmax", seed=1)],
                   split)  # another seed is another batch order


def test_thread_count_does_not_change_a_bit(mnist):
    """Validation passes are split into fixed row blocks, so any number of threads gives the same bits."""
    split = make_split(RunConfig(model="softmax").resolved(), mnist)
    trainers = [Trainer(max_epochs=1, threads=threads) for threads in (1, 3)]
    assert [trainer.threads for trainer in trainers] == [1, 3]
    runs = [SoftmaxRegression().fit(split.X_train, split.y_train, split.X_val, split.y_val, trainer=trainer)
            for trainer in trainers]
    np.testing.assert_array_equal(runs[0].weights_, runs[1].weights_)
    assert runs[0].history_ == runs[1].history_


def test_divergence_from_a_huge_l2_names_lambda():
    X, y = toy_problem()
    with pytest.raises(TrainingDiverged, match=r"Lower λ \(l2_strength, --l2; now 1e\+300\).*learning_rate·λ < 1"):
        LogisticRegression(l2_strength=1e300).fit(X, y, trainer=Trainer(learning_rate=0.01, batch_size=8))


def original_rules_trainer():
    """The original assignment's rules: no shuffling, best loss starting at 1.0, weights at the stop kept."""
    return Trainer(learning_rate=0.01, batch_size=128, max_epochs=50, shuffle=False,
                   callbacks=[EarlyStopping(patience=10, baseline=1.0, restore_best_weights=False)])


def test_baseline_one_stops_softmax_lambda_one_at_step_279(mnist):
    """Task 4c under the original code's rules: lambda = 1 never gets below 1.0, so the 10th validation stops."""
    split = make_split(RunConfig(model="softmax", l2_strength=1.0, shuffle=False).resolved(), mnist)
    model = SoftmaxRegression(l2_strength=1.0).fit(split.X_train, split.y_train, split.X_val, split.y_val,
                                                   trainer=original_rules_trainer())
    assert (model.early_stop_.step, model.early_stop_.epoch) == (279, 1) and model.n_steps_ == 280
    assert model.early_stop_.stopped_by == "EarlyStopping" and model.best_step_ is None
    assert min(logs["val_loss"] for logs in model.history_.validation.values()) > 1.0
    # The weights at the stop are kept; they are the weights after the last step, validated at it.
    assert model.final_weights_metrics_ == model.final_metrics_ == model.history_.validation[279]


def original_assignment_loop(X, y, X_val, y_val, l2, learning_rate=0.01, batch_size=128, epochs=50, patience=10):
    """The original code's loop in plain NumPy: (steps taken, [train_loss, val_loss, train_acc, val_acc] of
    the weights after the last step). Validation every batches_per_epoch // 5 steps from step 0, after the update."""
    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def loss_and_accuracy(W, X, y):
        probs = softmax(X @ W)
        return -np.mean(np.log(probs[np.arange(len(y)), y])), np.mean(probs.argmax(axis=1) == y)

    Y = np.eye(10)[y]
    W = np.zeros((X.shape[1], 10))
    batches = len(X) // batch_size
    every, best, wait, step = batches // 5, 1.0, 0, 0
    for epoch in range(epochs):
        for b in range(batches):
            X_b, Y_b = X[b * batch_size:(b + 1) * batch_size], Y[b * batch_size:(b + 1) * batch_size]
            W = W - learning_rate * (X_b.T @ (softmax(X_b @ W) - Y_b) / batch_size + 2 * l2 * W)
            stop = False
            if step % every == 0:
                val_loss, _ = loss_and_accuracy(W, X_val, y_val)
                if val_loss < best:
                    best, wait = val_loss, 0
                else:
                    wait += 1
                    stop = wait >= patience
            step += 1
            if stop:
                break
        else:
            continue
        break
    (train_loss, train_acc), (val_loss, val_acc) = loss_and_accuracy(W, X, y), loss_and_accuracy(W, X_val, y_val)
    return step, [train_loss, val_loss, train_acc, val_acc]


@pytest.mark.slow
@pytest.mark.parametrize("l2", [1.0, 0.0])
def test_final_weight_metrics_match_the_original_loop(mnist, l2):
    split = make_split(RunConfig(model="softmax", l2_strength=l2, shuffle=False).resolved(), mnist)
    steps, expected = original_assignment_loop(split.X_train, split.y_train, split.X_val, split.y_val, l2)
    model = SoftmaxRegression(l2_strength=l2).fit(split.X_train, split.y_train, split.X_val, split.y_val,
                                                  trainer=original_rules_trainer())
    assert model.n_steps_ == steps == (280 if l2 else 7800)
    final = model.final_weights_metrics_
    np.testing.assert_allclose([final[name] for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy")],
                               expected, rtol=0, atol=1e-6)
    if not l2:  # the last step (7799) is not a validation step (7781): the final weights are evaluated once more
        assert max(model.history_.validation) == 7781 and final != model.final_metrics_


def test_drop_diverged_drops_a_diverging_model_and_the_others_end_as_alone():
    """Trainer(drop_diverged=True): a model whose step diverges leaves the lock-step group at once, keeping
    the weights and history a run alone has when it raises; the others end exactly as alone. (Softmax: a
    lock-step group of logistic models, K = 1, is not bit-identical to runs alone even without divergence.)"""
    from linclass.training import Divergence

    X, y = toy_problem()
    lanes = [(0.1, 0.0), (1e6, 0.0), (0.1, 15.0), (0.1, 1.0)]  # 1e6 diverges at step 3, λ 15 (rate·λ > 1) at 18

    def trainer(rate=0.1, **options):
        return Trainer(learning_rate=rate, batch_size=8, max_epochs=6, seed=0, validations_per_epoch=2,
                       callbacks=[EarlyStopping(patience=4)], **options)

    together = [SoftmaxRegression(l2_strength=strength) for _, strength in lanes]
    trainer(drop_diverged=True).fit_many(together, X, y, X, y, learning_rates=[rate for rate, _ in lanes])
    steps = []
    for (rate, strength), joint in zip(lanes, together):
        alone = SoftmaxRegression(l2_strength=strength)
        try:
            alone.fit(X, y, X, y, trainer=trainer(rate))
            assert joint.diverged_ is None
            assert joint.final_weights_metrics_ == alone.final_weights_metrics_
        except TrainingDiverged as error:
            assert joint.diverged_ == Divergence.from_error(error)
            assert joint.diverged_.message == str(error) and joint.diverged_.step == error.step
            steps.append(error.step)
        np.testing.assert_array_equal(joint.weights_, alone.weights_)
        assert joint.history_ == alone.history_ and joint.n_steps_ == alone.n_steps_
        assert joint.early_stop_ == alone.early_stop_ and joint.best_metrics_ == alone.best_metrics_
    assert steps == [3, 18]  # validations every 4 steps: one before the second, one after four more
    assert together[3].early_stop_ is not None and together[0].early_stop_ is None  # and one lane stopped early
    # without drop_diverged the group raises, as before, naming the model
    with pytest.raises(TrainingDiverged, match=r"diverged at step 3 \(epoch 0\) \(SoftmaxRegression"):
        trainer().fit_many([SoftmaxRegression(l2_strength=s) for _, s in lanes], X, y, X, y,
                           learning_rates=[rate for rate, _ in lanes])
