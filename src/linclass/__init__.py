"""linclass: logistic and softmax regression from scratch in NumPy, trained on MNIST."""

from ._version import __version__
from .data import ImageDataset, Mnist, load_dataset, load_mnist, read_idx
from .errors import LinclassError
from .gradcheck import max_gradient_difference, numerical_gradient
from .models import LogisticRegression, SoftmaxRegression
from .prediction import load_run, normalize_digit, normalize_garment
from .preprocess import Split, binary_split, one_hot, preprocess, ten_class_split
from .training import Callback, EarlyStopping, History, ProgressBar, Trainer, TrainingDiverged

__all__ = [
    "Callback", "EarlyStopping", "History", "ImageDataset", "LinclassError", "LogisticRegression", "Mnist", "ProgressBar",
    "SoftmaxRegression", "Split", "Trainer", "TrainingDiverged", "__version__", "binary_split", "load_dataset", "load_mnist",
    "max_gradient_difference", "numerical_gradient", "one_hot", "preprocess", "read_idx",
    "ten_class_split",
    "load_run", "normalize_digit", "normalize_garment",  # use a trained run (linclass.prediction)
]
