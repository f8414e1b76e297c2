"""Use a trained run on new images: load it, read picture files and normalise them like the run's
dataset (MNIST's digits, Fashion-MNIST's garments), predict."""

from .garments import GARMENT_STEPS, normalize_garment
from .inputs import (IMAGE_FORMATS, NORMALIZERS, check_mnist_style, check_not_scaled, load_images, prepare_images,
                     read_array, read_idx_images, read_images, read_picture)
from .normalize import NORMALIZATION_STEPS, area_resize_matrix, normalize_digit, place_by_centre_of_mass, to_grayscale
from .run import class_digits, class_probabilities, load_run, predict_images, top_classes

__all__ = ["GARMENT_STEPS", "IMAGE_FORMATS", "NORMALIZATION_STEPS", "NORMALIZERS", "area_resize_matrix",
           "check_mnist_style", "check_not_scaled", "class_digits", "class_probabilities", "load_images", "load_run",
           "normalize_digit", "normalize_garment", "place_by_centre_of_mass", "predict_images", "prepare_images",
           "read_array", "read_idx_images", "read_images", "read_picture", "to_grayscale", "top_classes"]
