"""Use a trained run on new images: load it, read and MNIST-normalise picture files, predict."""

from .inputs import IMAGE_FORMATS, check_mnist_style, check_not_scaled, load_images, read_array, read_idx_images, read_picture
from .normalize import NORMALIZATION_STEPS, area_resize_matrix, normalize_digit, place_by_centre_of_mass, to_grayscale
from .run import class_digits, class_probabilities, load_run, predict_images, top_classes

__all__ = ["IMAGE_FORMATS", "NORMALIZATION_STEPS", "area_resize_matrix", "check_mnist_style", "check_not_scaled", "class_digits",
           "class_probabilities", "load_images", "load_run", "normalize_digit", "place_by_centre_of_mass",
           "predict_images", "read_array", "read_idx_images", "read_picture", "to_grayscale", "top_classes"]
