"""linclass: logistic and softmax regression from scratch in NumPy, trained on MNIST."""

from .callbacks import EarlyStopping, History, ProgressBar
from .data import Mnist, load_mnist
from .idx import read_idx
from .errors import LinclassError
from .gradcheck import max_gradient_difference, numerical_gradient
from .models import LogisticRegression, SoftmaxRegression
from .preprocess import Split, binary_split, one_hot, preprocess, ten_class_split
from .trainer import Trainer, TrainingDiverged

__version__ = "0.1.0"
__all__ = [
    "EarlyStopping", "History", "LinclassError", "LogisticRegression", "Mnist", "ProgressBar",
    "SoftmaxRegression", "Split", "Trainer", "TrainingDiverged", "binary_split", "load_mnist",
    "max_gradient_difference", "numerical_gradient", "one_hot", "preprocess", "read_idx",
    "ten_class_split",
]
