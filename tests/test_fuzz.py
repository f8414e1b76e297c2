"""Property-based tests (hypothesis).

The IDX reader, fed arbitrary bytes and mutated real MNIST headers, raw and gzip-wrapped, returns a
uint8 array that agrees with its header or raises LinclassError with a one-line message; nothing else.
The models: softmax rows sum to 1, predictions ignore a constant added to a row of logits, and the
losses stay finite for weights up to 1e6 on real images.

`make test` runs a few hundred examples per property; `make fuzz` runs the long profile (conftest.py).
"""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from hypothesis import assume, example, given, note
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from linclass import losses
from linclass.data import MNIST_FILES
from linclass.data.idx import parse_idx, read_idx
from linclass.errors import LinclassError
from linclass.models import LogisticRegression, SoftmaxRegression
from linclass.preprocess import one_hot, preprocess

N_REAL = 3  # images (or labels) kept after each real header
N_IMAGES = 32  # real images for the model properties; 32 x 785 x 10 stays under BLAS threading


def _header_size(payload: bytes) -> int:
    return 4 + 4 * payload[3]


def _real_samples(mnist_dir) -> dict[str, tuple[bytes, bytes]]:
    """{name: (first bytes of the real file, the same with its count patched to N_REAL)}."""
    samples = {}
    for spec in MNIST_FILES.values():
        item = int(np.prod(spec.shape[1:], dtype=np.int64))
        with gzip.open(mnist_dir / f"{spec.name}.gz") as handle:
            head = handle.read(4 + 4 * len(spec.shape) + N_REAL * item)
        samples[spec.name] = (head, head[:4] + struct.pack(">I", N_REAL) + head[8:])
    return samples


@pytest.fixture(scope="module")
def real(mnist_dir):
    return _real_samples(mnist_dir)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def expect_array_or_error(read, payload: bytes, decoded: bytes | None = None) -> np.ndarray | None:
    """Call read(); it must return a uint8 array that matches the IDX bytes, or raise LinclassError.

    decoded: the uncompressed IDX bytes when they are known (None for mutated gzip streams).
    """
    try:
        array = read(payload)
    except LinclassError as exc:
        assert str(exc) and "\n" not in str(exc), repr(str(exc))
        return None
    assert isinstance(array, np.ndarray) and array.dtype == np.uint8
    if decoded is not None:
        header = _header_size(decoded)
        assert array.shape == struct.unpack(f">{decoded[3]}I", decoded[4:header])
        assert array.tobytes() == decoded[header:]
    assert 1 <= array.ndim <= 3
    return array


# ---------------------------------------------------------------- strategies

IDX_PREFIXES = [b"\x00\x00\x08\x01", b"\x00\x00\x08\x02", b"\x00\x00\x08\x03", b"\x00\x00\x08\x00",
                b"\x00\x00\x08\x04", b"\x00\x00\x09\x03", b"\x1f\x8b\x08\x00"]

arbitrary_bytes = st.one_of(
    st.binary(max_size=64),
    st.builds(lambda prefix, rest: prefix + rest, st.sampled_from(IDX_PREFIXES), st.binary(max_size=48)),
)


@st.composite
def mutations(draw, payload: bytes) -> bytes:
    """payload with a few bytes replaced (mostly in the header), maybe cut, maybe extended."""
    data = bytearray(payload)
    for _ in range(draw(st.integers(0, 4))):
        limit = draw(st.sampled_from([16, len(data)]))
        position = draw(st.integers(0, min(limit, len(data)) - 1))
        data[position] = draw(st.one_of(st.integers(0, 255), st.sampled_from([0, 1, 3, 0x08, 0xFF])))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    data += draw(st.binary(max_size=8))
    return bytes(data)


def mutated_real(real):
    """One of the real headers (with the real count or with N_REAL), mutated."""
    return st.sampled_from([real[name][which] for name in sorted(real) for which in (0, 1)]).flatmap(mutations)


# ---------------------------------------------------------------- the IDX reader


def test_unmutated_real_samples_decode(real, mnist):
    images = parse_idx(real["train-images-idx3-ubyte"][1])
    np.testing.assert_array_equal(images, mnist.train_images[:N_REAL])
    labels = parse_idx(real["t10k-labels-idx1-ubyte"][1])
    np.testing.assert_array_equal(labels, mnist.test_labels[:N_REAL])
    with pytest.raises(LinclassError, match=r"declares shape \(60000, 28, 28\)"):
        parse_idx(real["train-images-idx3-ubyte"][0])  # the real count with only N_REAL images


@given(payload=arbitrary_bytes)
def test_parse_idx_on_arbitrary_bytes(payload):
    expect_array_or_error(parse_idx, payload, payload)


@given(data=st.data())
def test_parse_idx_on_mutated_real_headers(real, data):
    payload = data.draw(mutated_real(real))
    expect_array_or_error(parse_idx, payload, payload)


dimensions = st.one_of(st.integers(0, 2**32 - 1), st.integers(0, 32).map(lambda k: min(2**k, 2**32 - 1)))


@given(shape=st.lists(dimensions, min_size=1, max_size=3), tail=st.binary(max_size=32))
@example(shape=[2**31, 2**31, 4], tail=b"")  # 2**64 bytes: wraps to 0 in int64 arithmetic
@example(shape=[2**32 - 1] * 3, tail=b"\x00" * 7)
@example(shape=[0, 2**32 - 1, 2**32 - 1], tail=b"")  # no bytes, but NumPy cannot make the shape
def test_parse_idx_never_trusts_declared_dimensions(shape, tail):
    """Any declared shape, even one of 2**96 bytes, is checked against the bytes actually present."""
    payload = struct.pack(">BBBB", 0, 0, 8, len(shape)) + struct.pack(f">{len(shape)}I", *shape) + tail
    array = expect_array_or_error(parse_idx, payload, payload)
    if array is not None:
        assert int(np.prod(shape, dtype=object)) == len(tail)


@given(payload=arbitrary_bytes, name=st.sampled_from(["fuzz-idx3-ubyte", "fuzz.gz"]))
def test_read_idx_on_arbitrary_files(scratch, payload, name):
    path = scratch / name
    path.write_bytes(payload)
    decoded = payload if payload[:2] != b"\x1f\x8b" else None
    expect_array_or_error(lambda _: read_idx(path), payload, decoded)


@given(data=st.data(), name=st.sampled_from(["fuzz-idx1-ubyte.gz", "fuzz-idx3-ubyte"]))
def test_read_idx_on_gzip_wrapped_mutations(scratch, real, data, name):
    payload = data.draw(mutated_real(real))
    path = scratch / name
    path.write_bytes(gzip.compress(payload, compresslevel=1, mtime=0))
    expect_array_or_error(lambda _: read_idx(path), payload, payload)


@given(data=st.data())
def test_read_idx_on_mutated_gzip_streams(scratch, real, data):
    """Flipped, cut or extended bytes in the compressed stream itself: CRC, length and deflate errors."""
    name = data.draw(st.sampled_from(sorted(real)))
    packed = gzip.compress(real[name][1], compresslevel=1, mtime=0)
    damaged = data.draw(mutations(packed))
    assume(damaged != packed)
    path = scratch / "mutated.gz"
    path.write_bytes(damaged)
    expect_array_or_error(lambda _: read_idx(path), damaged)


# ---------------------------------------------------------------- the models

F32_LARGE = float(np.float32(1e30))
large_floats = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False)
logit_shapes = st.tuples(st.integers(1, 8), st.integers(2, 12))


@given(logits=hnp.arrays(np.float64, logit_shapes, elements=large_floats))
def test_softmax_rows_sum_to_one(logits):
    probs = losses.softmax(logits)
    assert np.isfinite(probs).all() and (probs >= 0).all() and (probs <= 1).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    rows = np.arange(len(logits))
    np.testing.assert_array_equal(probs[rows, logits.argmax(axis=1)], probs.max(axis=1))  # exp is monotone


@given(logits=hnp.arrays(np.float32, logit_shapes, elements=st.floats(-F32_LARGE, F32_LARGE, width=32)))
def test_softmax_rows_sum_to_one_in_float32(logits):
    probs = losses.softmax(logits)
    assert probs.dtype == np.float32 and np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@given(logits=hnp.arrays(np.int64, logit_shapes, elements=st.integers(-10**6, 10**6)),
       shift=st.lists(st.integers(-10**12, 10**12), min_size=8, max_size=8))
def test_softmax_ignores_a_constant_added_to_a_row_exactly(logits, shift):
    """Integer-valued logits add exactly, so predictions and probabilities must be identical."""
    logits = logits.astype(np.float64)
    shifted = logits + np.array(shift[: len(logits)], dtype=np.float64)[:, None]
    model = SoftmaxRegression(n_classes=logits.shape[1])
    np.testing.assert_array_equal(model.predict_from_logits(shifted), model.predict_from_logits(logits))
    np.testing.assert_array_equal(losses.softmax(shifted), losses.softmax(logits))


@given(logits=hnp.arrays(np.float64, logit_shapes, elements=st.floats(-1e6, 1e6)),
       shift=st.floats(-1e6, 1e6))
def test_softmax_ignores_a_constant_added_to_all_logits(logits, shift):
    """With rounding, a shift may only break near-ties, and moves probabilities by a few ulps."""
    shifted = logits + shift
    model = SoftmaxRegression(n_classes=logits.shape[1])
    tolerance = 8 * np.finfo(np.float64).eps * (np.abs(logits).max() + abs(shift) + 1)
    predicted = model.predict_from_logits(shifted)
    chosen = logits[np.arange(len(logits)), predicted]
    assert (chosen >= logits.max(axis=1) - tolerance).all()
    np.testing.assert_allclose(losses.softmax(shifted), losses.softmax(logits), rtol=0, atol=1e3 * tolerance)
    labels = logits.argmin(axis=1)
    note(f"tolerance {tolerance}")
    assert losses.softmax_cross_entropy(shifted, labels) == pytest.approx(
        losses.softmax_cross_entropy(logits, labels), rel=1e-9, abs=1e3 * tolerance)


@pytest.fixture(scope="module")
def real_features(mnist):
    """(X (N_IMAGES, 785) float64 and float32, ten-class labels, binary labels) from real training images."""
    X = preprocess(mnist.train_images[:N_IMAGES])
    y = mnist.train_labels[:N_IMAGES].astype(np.int64)
    return {np.float64: X, np.float32: X.astype(np.float32)}, y, (y % 2)


weight_settings = st.fixed_dictionaries({
    # No subnormal scales: they only make the arithmetic a hundred times slower.
    "scale": st.one_of(st.sampled_from([1e6, 1e5, 1.0, 0.0]), st.floats(1e-6, 1e6)),
    "pattern": st.sampled_from(["uniform", "signs", "constant"]),
    "seed": st.integers(0, 2**32 - 1),
    "dtype": st.sampled_from([np.float64, np.float32]),
    "l2_strength": st.sampled_from([0.0, 1e-3, 1.0]),
})


def _weights(settings, n_outputs: int) -> np.ndarray:
    rng = np.random.default_rng(settings["seed"])
    shape = (785, n_outputs)
    if settings["pattern"] == "uniform":
        W = rng.uniform(-1, 1, size=shape)
    elif settings["pattern"] == "signs":
        W = rng.choice([-1.0, 1.0], size=shape)
    else:
        W = np.full(shape, rng.choice([-1.0, 1.0]))
    return (settings["scale"] * W).astype(settings["dtype"])


@given(settings=weight_settings)
def test_losses_are_finite_for_large_weights_on_real_images(real_features, settings):
    features, y10, y2 = real_features
    X = features[settings["dtype"]]
    l2 = settings["l2_strength"]
    for model, y in ((SoftmaxRegression(n_classes=10, l2_strength=l2), y10), (LogisticRegression(l2_strength=l2), y2)):
        W = _weights(settings, model.n_outputs)
        model.set_weights(W)
        logits = model.decision_function(X).reshape(len(X), model.n_outputs)  # the logistic model's is (N,)
        assert np.isfinite(model.cross_entropy(logits, y)) and model.cross_entropy(logits, y) >= 0
        targets = model.encode_targets(y, X.dtype)
        loss, residual = model.loss_and_residual(logits.copy(), targets)
        assert np.isfinite(loss) and np.isfinite(residual).all()
        if model.n_outputs == 1:
            total, grad = losses.logistic_loss_and_grad(W, X, y, l2)
        else:
            total, grad = losses.softmax_loss_and_grad(W, X, one_hot(y, 10, dtype=X.dtype), l2)
        assert np.isfinite(total) and np.isfinite(grad).all()
        assert np.isfinite(model.l2_penalty())


@given(settings=weight_settings)
def test_predict_proba_is_a_probability_on_real_images(real_features, settings):
    features, _, _ = real_features
    X = features[settings["dtype"]]
    softmax = SoftmaxRegression()
    softmax.set_weights(_weights(settings, 10))
    probs = softmax.predict_proba(X)
    assert probs.shape == (N_IMAGES, 10) and np.isfinite(probs).all()
    assert (probs >= 0).all() and (probs <= 1).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5 if X.dtype == np.float32 else 1e-12)
    np.testing.assert_array_equal(softmax.predict(X), softmax.decision_function(X).argmax(axis=1))
    logistic = LogisticRegression()
    logistic.set_weights(_weights(settings, 1))
    p = logistic.predict_proba(X)
    assert p.shape == (N_IMAGES,) and np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
    np.testing.assert_array_equal(logistic.predict(X), (p >= 0.5).astype(np.int64))


@given(z=hnp.arrays(np.float64, st.integers(1, 16), elements=large_floats))
def test_sigmoid_is_a_probability_and_symmetric(z):
    s = losses.sigmoid(z)
    assert np.isfinite(s).all() and (s >= 0).all() and (s <= 1).all()
    np.testing.assert_allclose(s + losses.sigmoid(-z), 1.0, rtol=1e-12)
    assert np.isfinite(losses.binary_cross_entropy(z, (z > 0).astype(np.float64)))
