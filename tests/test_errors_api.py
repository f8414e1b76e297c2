"""Bad values through the Python API get one LinclassError (a ValueError) naming the parameter: digits,
hyperparameters, the inputs of fit and predict, preprocessing."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from linclass.errors import LinclassError
from linclass.models import LogisticRegression, SoftmaxRegression
from linclass.preprocess import binary_split, one_hot, preprocess, ten_class_split
from linclass.runs import RunConfig
from linclass.training import EarlyStopping, Trainer


def test_linclass_error_is_a_value_error():
    assert issubclass(LinclassError, ValueError)


# ---------------------------------------------------------------- digits and the selection


@pytest.mark.parametrize("digits, message", [
    ((3, 3), "classes must differ; got 3 twice"),
    ((2, 10), "two integers in 0-9"),
    ((-1, 2), "two integers in 0-9"),
    ((2.5, 3), "two integers in 0-9"),
    ((1, 2, 3), "two integers in 0-9"),
    (("a", 2), "two integers in 0-9"),
    (7, "two integers in 0-9"),
])
def test_bad_digits_api(mnist, digits, message):
    with pytest.raises(LinclassError, match=message):
        binary_split(mnist, digits)
    with pytest.raises(LinclassError, match=message):
        RunConfig(model="logistic", classes=digits).resolved()


def test_selection_that_leaves_no_images(mnist):
    # The first training label is 5 and the first test label is 7: neither is 0 or 1.
    with pytest.raises(LinclassError, match="digit 0 and digit 1 leave 0 training and 0 validation images"):
        binary_split(mnist, (0, 1), n_train=1, n_val=1)
    with pytest.raises(LinclassError, match="n_train must be between 1 and 60000; got 0"):
        binary_split(mnist, (0, 1), n_train=0)
    with pytest.raises(LinclassError, match="n_val must be between 1 and 10000; got 10001"):
        ten_class_split(mnist, n_val=10001)
    with pytest.raises(LinclassError, match="n_train"):
        ten_class_split(mnist, n_train=2.5)


# ---------------------------------------------------------------- hyperparameters


@pytest.mark.parametrize("kwargs, message", [
    ({"learning_rate": 0}, "learning_rate must be a finite number > 0; got 0"),
    ({"learning_rate": -0.1}, "learning_rate"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"learning_rate": float("inf")}, "learning_rate"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"learning_rate": None}, "learning_rate"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1; got 0"),
    ({"batch_size": 1.5}, "batch_size"),
    ({"batch_size": "64"}, "batch_size"),
    ({"max_epochs": 0}, "max_epochs must be an integer >= 1; got 0"),
    ({"max_epochs": True}, "max_epochs"),
])
def test_bad_trainer_settings(kwargs, message):
    with pytest.raises(LinclassError, match=message):
        Trainer(**kwargs)


@pytest.mark.parametrize("model", [LogisticRegression, SoftmaxRegression])
@pytest.mark.parametrize("l2_strength", [-1e-3, float("nan"), float("inf"), "0.1", None, True])
def test_bad_l2_strength(model, l2_strength):
    estimator = model(l2_strength=l2_strength)  # scikit-learn convention: __init__ stores, fit checks
    with pytest.raises(LinclassError, match="l2_strength must be a finite number >= 0"):
        estimator.fit(np.ones((8, 2)), np.arange(8) % 2, trainer=Trainer(batch_size=4, max_epochs=1))


@pytest.mark.parametrize("patience", [0, -3, 2.5, "10", True])
def test_bad_patience(patience):
    with pytest.raises(LinclassError, match="patience must be an integer >= 1"):
        EarlyStopping(patience=patience)


def test_negative_l2_in_a_run_config():
    with pytest.raises(LinclassError, match="l2_strength must be a finite number >= 0"):
        RunConfig(l2_strength=-0.5).resolved()


def test_batch_larger_than_the_training_set():
    X, y = np.ones((10, 3)), np.arange(10) % 2
    with pytest.raises(LinclassError, match="batch_size must be at most the 10 training rows; got 11"):
        LogisticRegression().fit(X, y, trainer=Trainer(batch_size=11))


# ---------------------------------------------------------------- inputs to fit and predict


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    X[:, -1] = 1.0
    y = (X[:, 0] > 0).astype(np.int64)
    y10 = rng.integers(0, 10, size=40)
    return SimpleNamespace(X=X, y=y, y10=y10, trainer=lambda: Trainer(batch_size=8, max_epochs=2))


def _with(X, row, col, value):
    X = X.copy()
    X[row, col] = value
    return X


BAD_FEATURES = [
    ("ragged list", lambda X: X.tolist()[:-1] + [[1.0]], r"must be an \(N, D\) array of numbers; got a list"),
    ("1-D", lambda X: X[:, 0], r"must be a non-empty \(N, D\) array; got shape \(40,\)"),
    ("3-D", lambda X: X[:, :, None], r"\(N, D\)"),
    ("no rows", lambda X: X[:0], r"non-empty"),
    ("no columns", lambda X: X[:, :0], r"non-empty"),
    ("int", lambda X: X.astype(np.int64), "must be float32 or float64; got int64"),
    ("uint8 images", lambda X: (X * 10).astype(np.uint8), "preprocess"),
    ("float16", lambda X: X.astype(np.float16), "float16"),
    ("complex", lambda X: X.astype(np.complex128), "complex128"),
    ("object", lambda X: X.astype(object), "object"),
    ("strings", lambda X: X.astype(str), "float32 or float64"),
    ("NaN", lambda X: _with(X, 3, 1, np.nan), "NaN or infinity"),
    ("+inf", lambda X: _with(X, 0, 0, np.inf), "NaN or infinity"),
    ("-inf", lambda X: _with(X, 39, 4, -np.inf), "NaN or infinity"),
]


@pytest.mark.parametrize("name, bad, message", BAD_FEATURES, ids=[case[0] for case in BAD_FEATURES])
@pytest.mark.parametrize("model_class", [LogisticRegression, SoftmaxRegression])
def test_bad_features_in_fit_and_predict(tiny, model_class, name, bad, message):
    y = tiny.y if model_class is LogisticRegression else tiny.y10
    with pytest.raises(LinclassError, match=message):
        model_class().fit(bad(tiny.X), y, trainer=tiny.trainer())
    with pytest.raises(LinclassError, match=message):
        model_class().fit(tiny.X, y, bad(tiny.X), y, trainer=tiny.trainer())
    model = model_class().fit(tiny.X, y, trainer=tiny.trainer())
    for method in (model.predict, model.predict_proba, model.decision_function):
        with pytest.raises(LinclassError, match=message):
            method(bad(tiny.X))
    with pytest.raises(LinclassError, match=message):
        model.score(bad(tiny.X), y)


def test_predict_with_the_wrong_number_of_features(tiny):
    model = SoftmaxRegression().fit(tiny.X, tiny.y10, trainer=tiny.trainer())
    with pytest.raises(LinclassError, match="X has 784 features; the model expects 5"):
        model.predict(np.zeros((3, 784)))
    with pytest.raises(LinclassError, match="X_val has 4 features"):
        SoftmaxRegression().fit(tiny.X, tiny.y10, tiny.X[:, :4], tiny.y10, trainer=tiny.trainer())


def test_validation_dtype_must_match_training(tiny):
    with pytest.raises(LinclassError, match="X_val is float32 but X is float64"):
        LogisticRegression().fit(tiny.X, tiny.y, tiny.X.astype(np.float32), tiny.y, trainer=tiny.trainer())


@pytest.mark.parametrize("bad, message", [
    (lambda y: y[:-1], r"y must have shape \(40,\) to match X; got \(39,\)"),
    (lambda y: y.reshape(-1, 1), r"y must have shape \(40,\)"),
    (lambda y: y.astype(np.float64), "y must hold integer labels; got dtype float64"),
    (lambda y: y.astype(str), "integer labels"),
])
def test_bad_labels(tiny, bad, message):
    with pytest.raises(LinclassError, match=message):
        LogisticRegression().fit(tiny.X, bad(tiny.y), trainer=tiny.trainer())
    model = LogisticRegression().fit(tiny.X, tiny.y, trainer=tiny.trainer())
    with pytest.raises(LinclassError, match=message):
        model.score(tiny.X, bad(tiny.y))


def test_three_labels_for_the_binary_model(tiny):
    three = np.where(np.arange(40) == 0, 2, tiny.y)  # labels 0, 1, 2
    with pytest.raises(LinclassError, match=r"y must be in \[0, 2\) or hold exactly 2 distinct labels; got 3"):
        LogisticRegression().fit(tiny.X, three, trainer=tiny.trainer())
    model = LogisticRegression().fit(tiny.X, tiny.y, trainer=tiny.trainer())
    with pytest.raises(LinclassError, match=r"y must hold only the classes the model knows, \[0, 1\]; got also \[2\]"):
        model.score(tiny.X, three)


def test_softmax_labels_beyond_its_classes(tiny):
    with pytest.raises(LinclassError, match=r"y must be in \[0, 3\) or hold exactly 3 distinct labels; "
                                            r"got 10 distinct labels, values 0 to 9"):
        SoftmaxRegression(n_classes=3).fit(tiny.X, tiny.y10, trainer=tiny.trainer())
    with pytest.raises(LinclassError, match="y_val must"):
        SoftmaxRegression().fit(tiny.X, tiny.y10, tiny.X, tiny.y10 + 1, trainer=tiny.trainer())


@pytest.mark.parametrize("model, labels, shown", [
    (LogisticRegression, np.zeros(40, dtype=np.int64), "0"),
    (LogisticRegression, np.ones(40, dtype=np.int64), "1"),
    (lambda: SoftmaxRegression(n_classes=10), np.full(40, 3), "3"),
])
def test_labels_of_one_class_are_refused(tiny, model, labels, shown):
    """Before this check, a logistic model fitted on zeros alone trained and predicted 0 for everything."""
    with pytest.raises(LinclassError, match=rf"y holds only one class \({shown}\); a classifier needs examples of at "
                                            "least two classes"):
        model().fit(tiny.X, labels, trainer=tiny.trainer())


def test_missing_labels_are_named(tiny):
    for X_val, y_val, missing in ((tiny.X, None, "y_val"), (None, tiny.y, "X_val")):
        with pytest.raises(LinclassError, match=f"{missing} is missing; X_val and y_val go together: pass both"):
            LogisticRegression().fit(tiny.X, tiny.y, X_val, y_val, trainer=tiny.trainer())
    model = LogisticRegression().fit(tiny.X, tiny.y, trainer=tiny.trainer())
    with pytest.raises(LinclassError, match=r"y is missing; pass \(40,\) integer labels, one per row"):
        model.score(tiny.X, None)


def test_predict_before_fit_says_call_fit(tiny):
    for model in (LogisticRegression(), SoftmaxRegression()):
        for method in (model.predict, model.predict_proba):
            with pytest.raises(LinclassError, match="not fitted yet; call fit first"):
                method(tiny.X)


# ---------------------------------------------------------------- preprocessing


@pytest.mark.parametrize("images, message", [
    (np.full((2, 28, 28), 300), r"images must hold pixels in \[0, 255\]; got values from 300 to 300"),
    (np.full((2, 28, 28), -1, dtype=np.int16), r"images must hold pixels in \[0, 255\]; got values from -1 to -1"),
    (np.zeros((3, 27, 28), dtype=np.uint8), "each image has 756 pixels"),
    (np.zeros(784, dtype=np.uint8), r"images must be a numeric, non-empty \(N, 28, 28\) array"),
    (np.full((2, 28, 28), "a"), "numeric"),
    (np.zeros((2, 28, 28), dtype=object), "numeric"),
])
def test_preprocess_rejects_bad_images(images, message):
    with pytest.raises(LinclassError, match=message):
        preprocess(images)


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 3]), r"labels must be in \[0, 3\); got values from 0 to 3"),
    (np.array([0.0, 1.0]), "integer array"),
    (np.array([[0, 1]]), "integer array"),
])
def test_one_hot_rejects_bad_labels(labels, message):
    with pytest.raises(LinclassError, match=message):
        one_hot(labels, 3)


def test_fit_many_refuses_shared_models_and_callbacks(tiny):
    """Both used to be accepted: one model object trained twice ended with the last learning rate's weights,
    and one EarlyStopping shared by two models stopped the first at the wrong step."""
    model, stopper = LogisticRegression(), EarlyStopping(patience=2)
    with pytest.raises(LinclassError, match="fit_many got the same model object more than once"):
        tiny.trainer().fit_many([model, model], tiny.X, tiny.y, tiny.X, tiny.y, learning_rates=[0.05, 0.5])
    with pytest.raises(LinclassError, match="gives one EarlyStopping object to models 0 and 1; each model needs its own"):
        tiny.trainer().fit_many([LogisticRegression(), LogisticRegression()], tiny.X, tiny.y, tiny.X, tiny.y,
                                callbacks_per_model=[[stopper], [stopper]])


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, "float16", np.complex128])
def test_a_split_or_preprocess_in_another_dtype_is_refused(mnist, dtype):
    """These once failed inside NumPy's divide (TypeError), or later in fit with advice about preprocess."""
    for call in (lambda: ten_class_split(mnist, dtype=dtype), lambda: binary_split(mnist, dtype=dtype),
                 lambda: preprocess(mnist.test_images[:2], dtype=dtype)):
        with pytest.raises(LinclassError, match=f"dtype must be float32 or float64; got {np.dtype(dtype).name}"):
            call()


@pytest.mark.parametrize("data", [np.zeros(3), "mnist", None])
def test_a_split_of_something_else_than_a_dataset_is_refused(data):
    for split in (ten_class_split, binary_split):
        with pytest.raises(LinclassError, match="data must be a dataset from linclass.load_dataset"):
            split(data)
