"""The in-process workloads: the matrix-product floor, linclass softmax-50, PyTorch, scikit-learn.

Every function runs one measurement and returns a plain dict; bench.py repeats and interleaves them.
The ten-class workload: 20,000 training and 10,000 validation rows of 785 features ([-1, 1] pixels
and a bias), batch 128, 50 epochs = 156 * 50 = 7,800 steps, validation every 156 // 5 = 31 steps
from step 0 = 252 validations, each over all 30,000 rows.
"""

from __future__ import annotations

import gc
import time
import warnings

import numpy as np

from linclass.preprocess import N_PIXELS
from linclass.runs import VALIDATIONS_PER_EPOCH, RunConfig, schedule

# The report's ten-class run, as linclass defines it (RunConfig's softmax defaults), without early stopping.
SOFTMAX = RunConfig(model="softmax").resolved()
N_TRAIN, N_VAL, N_FEATURES, N_CLASSES = SOFTMAX.train_size, SOFTMAX.n_val, N_PIXELS + 1, 10
BATCH_SIZE, EPOCHS, LEARNING_RATE, SEED = SOFTMAX.batch_size, SOFTMAX.max_epochs, SOFTMAX.learning_rate, SOFTMAX.seed
BATCHES_PER_EPOCH = N_TRAIN // BATCH_SIZE  # 156
STEPS = EPOCHS * BATCHES_PER_EPOCH  # 7800
VALIDATE_EVERY = max(1, BATCHES_PER_EPOCH // VALIDATIONS_PER_EPOCH)  # 31, as the Trainer computes it
VALIDATIONS = len(range(0, STEPS, VALIDATE_EVERY))  # 252
TARGET_ACCURACY = 0.915


def first_reaching(marks, t0: float, target: float = TARGET_ACCURACY) -> dict | None:
    """marks: [(step, perf_counter, val_accuracy)] -> the first mark at or above target, as seconds from t0."""
    for step, stamp, accuracy in marks:
        if accuracy >= target:
            return {"seconds": stamp - t0, "step": int(step), "val_accuracy": float(accuracy)}
    return None


# ---------------------------------------------------------------- floor


def make_floor_arrays(dtype, seed: int = 0) -> dict:
    """Random operands of the floor's shapes: one (30,000, 785) buffer whose first 20,000 rows are batched."""
    rng = np.random.default_rng(seed)
    X_all = rng.uniform(-1, 1, size=(N_TRAIN + N_VAL, N_FEATURES)).astype(dtype)
    return {
        "X_all": X_all,
        "W": rng.normal(scale=0.01, size=(N_FEATURES, N_CLASSES)).astype(dtype),
        "residual": rng.normal(scale=0.01, size=(BATCH_SIZE, N_CLASSES)).astype(dtype),
        "logits": np.empty((BATCH_SIZE, N_CLASSES), dtype=dtype),
        "grad": np.empty((N_FEATURES, N_CLASSES), dtype=dtype),
        "all_logits": np.empty((N_TRAIN + N_VAL, N_CLASSES), dtype=dtype),
    }


def run_floor(arrays: dict) -> dict:
    """Only the unavoidable products: 7,800 x (batch @ W, batch.T @ residual) + 252 x (X_all @ W)."""
    X_all, W, residual = arrays["X_all"], arrays["W"], arrays["residual"]
    logits, grad, all_logits = arrays["logits"], arrays["grad"], arrays["all_logits"]
    batches = [X_all[i * BATCH_SIZE:(i + 1) * BATCH_SIZE] for i in range(BATCHES_PER_EPOCH)]
    matmul = np.matmul
    gc.collect()
    started = time.perf_counter()
    for step in range(STEPS):
        batch = batches[step % BATCHES_PER_EPOCH]
        matmul(batch, W, out=logits)
        matmul(batch.T, residual, out=grad)
    steps_done = time.perf_counter()
    for _ in range(VALIDATIONS):
        matmul(X_all, W, out=all_logits)
    finished = time.perf_counter()
    return {"seconds": finished - started, "steps_seconds": steps_done - started,
            "validation_seconds": finished - steps_done}


def run_floor_single_thread(arrays: dict) -> dict | None:
    """The same floor with BLAS limited to one thread (information: threading cost on small products)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    with threadpool_limits(limits=1, user_api="blas"):
        return run_floor(arrays)


# ---------------------------------------------------------------- linclass


def linclass_split(mnist, dtype) -> tuple[object, float]:
    import linclass

    started = time.perf_counter()
    split = linclass.ten_class_split(mnist, dtype=dtype)
    return split, time.perf_counter() - started


def run_linclass(split, max_epochs: int = EPOCHS) -> dict:
    """SoftmaxRegression on the split through the public API: 50 epochs, no early stopping."""
    from linclass import SoftmaxRegression, Trainer
    from linclass.training import Callback

    class ValidationClock(Callback):
        """Stamps each validation with perf_counter; only on_validation_end, so no per-step cost."""

        def on_train_begin(self, trainer):
            self.marks = []

        def on_validation_end(self, trainer, step, logs):
            self.marks.append((step, time.perf_counter(), logs["val_accuracy"]))

    clock = ValidationClock()
    trainer = Trainer(**{**schedule(SOFTMAX), "max_epochs": max_epochs}, callbacks=[clock])
    gc.collect()
    started = time.perf_counter()
    model = SoftmaxRegression().fit(split.X_train, split.y_train, split.X_val, split.y_val, trainer=trainer)
    seconds = time.perf_counter() - started
    validations = len(model.history_.validation)
    if max_epochs == EPOCHS and (model.n_steps_ != STEPS or validations != VALIDATIONS):
        raise RuntimeError(f"linclass ran {model.n_steps_} steps and {validations} validations; "
                           f"the workload needs {STEPS} and {VALIDATIONS}.")
    final = model.history_.validation[max(model.history_.validation)]
    return {"seconds": seconds, "val_accuracy": float(final["val_accuracy"]),
            "best_val_accuracy": max(m[2] for m in clock.marks),
            "to_target": first_reaching(clock.marks, started)}


# ---------------------------------------------------------------- PyTorch


def torch_inputs(split) -> dict:
    """float32 tensors of the same scaled pixels (bias column dropped: nn.Linear has its own bias)."""
    import torch

    X_all = np.concatenate([split.X_train[:, :-1], split.X_val[:, :-1]]).astype(np.float32)
    return {"X_all": torch.from_numpy(np.ascontiguousarray(X_all)),
            "y_train": torch.from_numpy(np.asarray(split.y_train, dtype=np.int64)),
            "y_val": torch.from_numpy(np.asarray(split.y_val, dtype=np.int64))}


def run_torch(inputs: dict, threads: int) -> dict:
    """The idiomatic PyTorch loop on the same schedule: nn.Linear(784, 10) zero-initialised, SGD lr 0.01,
    batch 128, per-epoch randperm, validation (losses and accuracies on all 30,000 rows) every 31 steps."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    X_all, y_train, y_val = inputs["X_all"], inputs["y_train"], inputs["y_val"]
    X_train = X_all[:N_TRAIN]
    model = torch.nn.Linear(N_FEATURES - 1, N_CLASSES)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    generator = torch.Generator().manual_seed(SEED)
    train_losses, marks = [], []
    gc.collect()
    started = time.perf_counter()
    step = 0
    for _ in range(EPOCHS):
        order = torch.randperm(N_TRAIN, generator=generator)
        for b in range(BATCHES_PER_EPOCH):
            rows = order[b * BATCH_SIZE:(b + 1) * BATCH_SIZE]
            loss = F.cross_entropy(model(X_train[rows]), y_train[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            train_losses.append(loss.item())
            if step % VALIDATE_EVERY == 0:
                with torch.no_grad():
                    logits = model(X_all)
                    train_logits, val_logits = logits[:N_TRAIN], logits[N_TRAIN:]
                    logs = {"train_loss": F.cross_entropy(train_logits, y_train).item(),
                            "val_loss": F.cross_entropy(val_logits, y_val).item(),
                            "train_accuracy": (train_logits.argmax(1) == y_train).float().mean().item(),
                            "val_accuracy": (val_logits.argmax(1) == y_val).float().mean().item()}
                marks.append((step, time.perf_counter(), logs["val_accuracy"]))
            step += 1
    seconds = time.perf_counter() - started
    if step != STEPS or len(marks) != VALIDATIONS:
        raise RuntimeError(f"torch loop ran {step} steps and {len(marks)} validations.")
    return {"seconds": seconds, "val_accuracy": float(marks[-1][2]),
            "best_val_accuracy": max(m[2] for m in marks), "to_target": first_reaching(marks, started)}


# ---------------------------------------------------------------- scikit-learn

LBFGS_C = 1.0  # scikit-learn's default
LBFGS_MAX_ITER = 100  # scikit-learn's default; full convergence (~700 iterations) only overfits
LBFGS_SEARCH_LIMIT = 1000
SGD_MAX_EPOCHS_TO_TARGET = EPOCHS  # the budget linclass gets


def sklearn_inputs(split) -> dict:
    """The same 784 scaled pixels (no bias column: scikit-learn fits the intercept)."""
    return {"X_train": np.ascontiguousarray(split.X_train[:, :-1]), "y_train": np.asarray(split.y_train),
            "X_val": np.ascontiguousarray(split.X_val[:, :-1]), "y_val": np.asarray(split.y_val)}


def _quiet():
    from sklearn.exceptions import ConvergenceWarning

    context = warnings.catch_warnings()
    context.__enter__()
    warnings.simplefilter("ignore", ConvergenceWarning)
    return context


def _timed_fit(model, data: dict) -> float:
    """Seconds of model.fit on the training data, with scikit-learn's warnings silenced."""
    context = _quiet()
    try:
        gc.collect()
        started = time.perf_counter()
        model.fit(data["X_train"], data["y_train"])
        return time.perf_counter() - started
    finally:
        context.__exit__(None, None, None)


def fit_lbfgs(data: dict, max_iter: int = LBFGS_MAX_ITER) -> dict:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=LBFGS_C, solver="lbfgs", max_iter=max_iter)
    seconds = _timed_fit(model, data)
    n_iter = int(np.max(model.n_iter_))
    return {"seconds": seconds, "val_accuracy": float(model.score(data["X_val"], data["y_val"])),
            "n_iter": n_iter, "converged": n_iter < max_iter}


def lbfgs_iterations_to_target(data: dict, target: float = TARGET_ACCURACY) -> dict:
    """The smallest max_iter whose from-scratch fit reaches target: a doubling search, then bisection."""
    tried = {}

    def reaches(max_iter):
        if max_iter not in tried:
            tried[max_iter] = fit_lbfgs(data, max_iter)["val_accuracy"]
        return tried[max_iter] >= target

    low, high = 0, 8
    while not reaches(high):
        low, high = high, high * 2
        if high > LBFGS_SEARCH_LIMIT:
            high = LBFGS_SEARCH_LIMIT
            if not reaches(high):
                return {"max_iter": None, "tried": {str(k): v for k, v in sorted(tried.items())}}
            break
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if reaches(middle) else (middle, high)
    return {"max_iter": high, "tried": {str(k): v for k, v in sorted(tried.items())}}


def fit_sgd(data: dict) -> dict:
    """SGDClassifier(loss='log_loss') with its defaults (one-vs-rest, alpha 1e-4, optimal schedule)."""
    from sklearn.linear_model import SGDClassifier

    model = SGDClassifier(loss="log_loss", random_state=SEED)
    seconds = _timed_fit(model, data)
    return {"seconds": seconds, "val_accuracy": float(model.score(data["X_val"], data["y_val"])),
            "n_iter": int(model.n_iter_)}


def sgd_time_to_target(data: dict, target: float = TARGET_ACCURACY) -> dict:
    """partial_fit one epoch at a time; the summed partial_fit time until validation reaches target.

    Scoring after each epoch is not counted. A RandomState instance (not an int) makes each epoch
    shuffle differently, as fit() does.
    """
    from sklearn.linear_model import SGDClassifier

    model = SGDClassifier(loss="log_loss", random_state=np.random.RandomState(SEED))
    classes = np.arange(N_CLASSES)
    seconds, accuracy = 0.0, 0.0
    gc.collect()
    for epoch in range(1, SGD_MAX_EPOCHS_TO_TARGET + 1):
        started = time.perf_counter()
        model.partial_fit(data["X_train"], data["y_train"], classes=classes)
        seconds += time.perf_counter() - started
        accuracy = float(model.score(data["X_val"], data["y_val"]))
        if accuracy >= target:
            return {"seconds": seconds, "epochs": epoch, "val_accuracy": accuracy}
    return {"seconds": None, "epochs": None, "val_accuracy": accuracy, "gave_up_after_epochs": epoch}
