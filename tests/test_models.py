"""The estimators follow scikit-learn's conventions (clone, pickle, get/set_params, classes_), accept
any labels, warn about a missing bias column, and save to / load from the weights.npz format."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from linclass import preprocess
from linclass.errors import LinclassError
from linclass.models import LinearClassifier, LogisticRegression, SoftmaxRegression
from linclass.training import Trainer

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: E402


def toy_problem(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.normal(size=(n, 3)), np.ones((n, 1))])
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)


def small_trainer():
    return Trainer(learning_rate=0.1, batch_size=8, max_epochs=5)


def test_init_only_stores_and_fit_validates():
    model = SoftmaxRegression(l2_strength="a lot", n_classes=-3)
    assert model.l2_strength == "a lot" and model.get_params() == {"n_classes": -3, "l2_strength": "a lot",
                                                                    "penalize_bias": True}
    X, y = toy_problem()
    with pytest.raises(LinclassError, match="l2_strength must be a finite number >= 0; got 'a lot'"):
        model.fit(X, y, trainer=small_trainer())
    model.set_params(l2_strength=0.0)
    with pytest.raises(LinclassError, match="n_classes must be an integer >= 2; got -3"):
        model.fit(X, y, trainer=small_trainer())
    with pytest.raises(LinclassError, match="has no parameter 'alpha'"):
        model.set_params(alpha=1.0)
    assert model.set_params(n_classes=None) is model and model.n_classes is None


@pytest.mark.parametrize("model", [LogisticRegression(l2_strength=0.1), SoftmaxRegression(n_classes=2)])
def test_clone_and_pickle_fitted_and_unfitted(model):
    X, y = toy_problem()
    for estimator in (model, clone(model).fit(X, y, trainer=small_trainer())):
        copy = clone(estimator)
        assert copy.get_params() == estimator.get_params() and not hasattr(copy, "weights_")
        restored = pickle.loads(pickle.dumps(estimator))
        assert restored.get_params() == estimator.get_params()
    fitted = clone(model).fit(X, y, trainer=small_trainer())
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(restored.classes_, [0, 1])
    assert restored.n_features_in_ == 4 and restored.history_ == fitted.history_


SCORES = (429 / 500, 413 / 500, 415 / 500)  # correct test images of each fold, float64, default Trainer


def test_cross_val_score_on_preprocessed_mnist(mnist):
    X = preprocess(mnist.train_images[:1500])
    y = mnist.train_labels[:1500].astype(np.int64)
    scores = cross_val_score(SoftmaxRegression(l2_strength=0.001), X, y, cv=3)  # stratified: a classifier
    train, test = next(StratifiedKFold(3).split(X, y))
    by_hand = SoftmaxRegression(l2_strength=0.001).fit(X[train], y[train]).score(X[test], y[test])
    assert scores[0] == by_hand
    np.testing.assert_allclose(scores, SCORES, atol=1e-12)


def test_logistic_accepts_any_two_labels_and_returns_them():
    X, y01 = toy_problem()
    y23 = np.where(y01 == 1, 3, 2)
    plain = LogisticRegression().fit(X, y01, X, y01, trainer=small_trainer())
    digits = LogisticRegression().fit(X, y23, X, y23, trainer=small_trainer())
    np.testing.assert_array_equal(digits.classes_, [2, 3])
    assert digits.weights_.tobytes() == plain.weights_.tobytes() and digits.history_ == plain.history_
    np.testing.assert_array_equal(digits.predict(X), np.where(plain.predict(X) == 1, 3, 2))
    np.testing.assert_array_equal(digits.predict_proba(X), plain.predict_proba(X))  # P(classes_[1]) = P(3)
    assert digits.score(X, y23) == plain.score(X, y01)
    with pytest.raises(LinclassError, match=r"y must hold only the classes the model knows, \[2, 3\]; got also \[0, 1\]"):
        digits.score(X, y01)
    with pytest.raises(LinclassError, match="hold exactly 2 distinct labels; got 3 distinct labels, values 5 to 7"):
        LogisticRegression().fit(X, np.arange(64) % 3 + 5, trainer=small_trainer())


def test_softmax_maps_any_k_labels_through_sorted_classes():
    X, y = toy_problem(n=96)
    y3 = (X[:, 1] > 0.5).astype(int) + y  # 0, 1, 2
    labels = np.array([7, 40, 13])[y3]  # classes_ sorted: 7, 13, 40 -> indices 0, 2, 1
    model = SoftmaxRegression().fit(X, labels, trainer=small_trainer())
    reference = SoftmaxRegression().fit(X, np.array([0, 2, 1])[y3], trainer=small_trainer())
    np.testing.assert_array_equal(model.classes_, [7, 13, 40])
    assert model.weights_.shape == (4, 3) and model.weights_.tobytes() == reference.weights_.tobytes()
    np.testing.assert_array_equal(model.predict(X), model.classes_[reference.predict(X)])
    assert model.predict_proba(X).shape == (96, 3)


def test_array_likes_go_through_asarray():
    X, y = toy_problem()
    model = LogisticRegression().fit(X.tolist(), y.tolist(), trainer=small_trainer())
    np.testing.assert_array_equal(model.predict(X.tolist()), model.predict(X))
    with pytest.raises(LinclassError, match="X must be an \\(N, D\\) array of numbers"):
        model.predict([[1.0, 2.0], [3.0]])


def test_wrong_number_of_columns_is_worded_from_the_shapes():
    X, y = toy_problem()
    model = LogisticRegression().fit(X, y, trainer=small_trainer())
    with pytest.raises(LinclassError, match=r"X has 3 features; the model expects 4, the number of columns it was "
                                            r"fitted on \(one column short: add the bias column with linclass.preprocess\)"):
        model.predict(X[:, :3])
    with pytest.raises(LinclassError, match="X has 9 features; the model expects 4") as error:
        model.predict(np.ones((2, 9)))
    assert "784" not in str(error.value)


def test_missing_bias_column_warns_once():
    X, y = toy_problem()
    with pytest.warns(UserWarning, match="not the constant bias column.*linclass.preprocess") as caught:
        LogisticRegression().fit(X[:, :3], y, trainer=small_trainer())
    assert len([w for w in caught if "bias column" in str(w.message)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LogisticRegression().fit(X, y, trainer=small_trainer())


@pytest.mark.parametrize("bad, message", [
    ("abc", "weights must be a float32/float64 \\(D, 1\\) array; got <U3 \\(\\)"),
    (np.zeros((4, 2)), "weights must be"), ([[np.nan], [1.0]], "NaN or infinity"),
])
def test_set_weights_refuses_bad_values(bad, message):
    with pytest.raises(LinclassError, match=message):
        LogisticRegression().set_weights(bad)


@pytest.mark.parametrize("model_class, labels", [(LogisticRegression, [2, 3]), (SoftmaxRegression, [1, 5, 9])])
def test_save_and_load_round_trip(tmp_path, model_class, labels):
    X, y = toy_problem(n=90)
    y = np.array(labels)[np.arange(90) % len(labels)]
    model = model_class(l2_strength=0.25, penalize_bias=False).fit(X, y, trainer=small_trainer())
    model.save(tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz", allow_pickle=False) as archive:
        assert {archive[name].dtype.kind for name in archive.files} <= set("fiubU")
        assert str(archive["kind"]) == model.kind
    for loader in (LinearClassifier.load, model_class.load):
        loaded = loader(tmp_path / "model.npz")
        assert type(loaded) is model_class and loaded.get_params() == model.get_params()
        assert loaded.weights_.tobytes() == model.weights_.tobytes()
        np.testing.assert_array_equal(loaded.classes_, labels)
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_a_run_folders_weights_only_file_loads_when_the_kind_is_known(tmp_path):
    W = np.random.default_rng(0).normal(size=(785, 10))
    np.savez(tmp_path / "weights.npz", weights=W)
    model = SoftmaxRegression.load(tmp_path / "weights.npz")
    assert model.weights_.tobytes() == W.tobytes() and model.n_outputs == 10
    assert model.classes_.tolist() == list(range(10))  # a run's file has no classes: 0 .. K-1, as it was trained
    np.testing.assert_array_equal(model.predict(np.eye(785)[:3]), W[:3].argmax(axis=1))
    with pytest.raises(LinclassError, match="only weights, no model kind; load it with LogisticRegression.load"):
        LinearClassifier.load(tmp_path / "weights.npz")
    with pytest.raises(LinclassError, match="weights must be a float32/float64 \\(D, 1\\) array"):
        LogisticRegression.load(tmp_path / "weights.npz")


@pytest.mark.parametrize("write, message", [
    (lambda p: p.write_bytes(b"garbage"), "is not a readable model file"),
    (lambda p: np.savez(p, weights=np.array([object()], dtype=object)), "is not a readable model file"),
    (lambda p: np.savez(p, W=np.zeros((3, 1))), "no 'weights' array"),
    (lambda p: np.savez(p, weights=np.zeros((3, 1)), kind=np.array("svm")), "kind must be one of"),
    (lambda p: np.savez(p, weights=np.zeros((3, 2)), kind=np.array("softmax"), l2_strength=np.array(-1.0)),
     "l2_strength must be"),
    (lambda p: np.savez(p, weights=np.zeros((3, 2)), kind=np.array("softmax"), classes=np.array([3, 1])),
     "classes must be sorted distinct integers"),
    # parameters that are not one value were once skipped, so the model silently got the defaults
    (lambda p: np.savez(p, weights=np.zeros((3, 2)), kind=np.array("softmax"), l2_strength=np.array(["x"])),
     "l2_strength must be a single number or boolean"),
    (lambda p: np.savez(p, weights=np.zeros((3, 2)), kind=np.array("softmax"), l2_strength=np.array([1.5])),
     "l2_strength must be a single number or boolean"),
    (lambda p: np.savez(p, weights=np.zeros((3, 1)), kind=np.array("logistic"), penalize_bias=np.array([1.5])),
     "penalize_bias must be a single number or boolean"),
    (lambda p: p.mkdir(), "is not a file; give a file written by save()"),
    (lambda p: None, "does not exist; give a file written by save()"),
])
def test_a_bad_model_file_is_refused_in_one_line(tmp_path, write, message):
    path = tmp_path / "model.npz"
    write(path)
    with pytest.raises(LinclassError, match=message) as error:
        LinearClassifier.load(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_softmax_file_loaded_as_logistic_is_refused(tmp_path):
    X, y = toy_problem()
    SoftmaxRegression(n_classes=2).fit(X, y, trainer=small_trainer()).save(tmp_path / "m.npz")
    with pytest.raises(LinclassError, match=r"kind must be one of \[.logistic.\]; got .softmax.\. Load it with its class"):
        LogisticRegression.load(tmp_path / "m.npz")


def test_logistic_decision_function_has_scikit_learns_binary_shape():
    """(N,), as scikit-learn's binary classifiers give it (it was (N, 1)): roc_auc_score takes it as it is."""
    from sklearn.metrics import roc_auc_score

    X, y = toy_problem()
    model = LogisticRegression().fit(X, y, trainer=small_trainer())
    scores = model.decision_function(X)
    assert scores.shape == (len(X),)
    np.testing.assert_array_equal(model.predict(X), model.classes_[(scores >= 0).astype(int)])
    assert roc_auc_score(y, scores) == roc_auc_score(y, model.predict_proba(X))
