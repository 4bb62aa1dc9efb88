"""Target sources: file formats written byte by byte or built on the fly, the bundled sets, the generators,
mixtures and the spec errors."""

from __future__ import annotations

import gzip
import struct
import tarfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from speckle_lab.acquisition.targets import (
    READY_SPECS,
    TargetSource,
    TargetSpecError,
    choose_indices,
    list_sources,
    mix_sources,
    open_source,
)
from speckle_lab.acquisition.targets.idx import read_idx


def write_idx_images(path: Path, images: np.ndarray, gz: bool = False, magic: int = 0x00000803) -> Path:
    """The published IDX layout: magic (0, 0, 0x08 = unsigned byte, 3 dims), big-endian uint32 sizes, pixels."""
    n, rows, cols = images.shape
    payload = struct.pack(">I", magic) + struct.pack(">III", n, rows, cols) + images.astype(np.uint8).tobytes()
    if gz:
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


@pytest.fixture
def idx_images() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (7, 5, 4), dtype=np.uint8)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_folder_and_file(tmp_path: Path, idx_images: np.ndarray, gz: bool) -> None:
    name = "train-images-idx3-ubyte" + (".gz" if gz else "")
    file = write_idx_images(tmp_path / name, idx_images, gz=gz)
    for spec in (f"mnist:{tmp_path}", f"mnist:{file}"):
        source = open_source(spec)
        assert isinstance(source, TargetSource)
        assert source.spec == spec
        assert len(source) == 7
        for i in (0, 6, -1):
            image = source.image(i)
            assert image.dtype == np.float32 and image.shape == (5, 4)
            np.testing.assert_allclose(image, idx_images[i] / 255.0, atol=1e-7)


def test_idx_big_endian_multibyte(tmp_path: Path) -> None:
    values = np.arange(6, dtype=np.int32).reshape(2, 3) * 100_000
    payload = bytes([0, 0, 0x0C, 2]) + struct.pack(">II", 2, 3) + values.astype(">i4").tobytes()
    (tmp_path / "x.idx").write_bytes(payload)
    np.testing.assert_array_equal(read_idx(tmp_path / "x.idx"), values)


def test_mnist_idx_errors(tmp_path: Path, idx_images: np.ndarray) -> None:
    labels = write_idx_images(tmp_path / "labels", idx_images, magic=0x00000801)
    with pytest.raises(TargetSpecError, match=r"mnist:.*0x00000801.*expected 0x00000803"):
        open_source(f"mnist:{labels}")
    not_idx = tmp_path / "junk"
    not_idx.write_bytes(b"\x12\x34\x56\x78" + bytes(20))
    with pytest.raises(TargetSpecError, match="not an IDX file"):
        open_source(f"mnist:{not_idx}")
    truncated = tmp_path / "short"
    truncated.write_bytes(write_idx_images(tmp_path / "full", idx_images).read_bytes()[:-5])
    source = open_source(f"mnist:{truncated}")  # the header is fine: the missing bytes show on loading
    with pytest.raises(TargetSpecError, match="truncated"):
        source.image(0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(TargetSpecError, match="train-images-idx3-ubyte"):
        open_source(f"mnist:{tmp_path / 'empty'}")


def _faces(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    rows, cols = np.mgrid[0:40, 0:30]
    return [
        (255 * np.exp(-((rows - 20) ** 2 + (cols - 15) ** 2) / (50 + 30 * i)) * rng.uniform(0.5, 1)).astype(np.uint8)
        for i in range(n)
    ]


@pytest.fixture
def lfw_tree(tmp_path: Path) -> Path:
    """A miniature LFW: lfw/<Person>/<Person>_000N.jpg, RGB JPEGs, plus a stray text file."""
    root = tmp_path / "lfw"
    names = [
        "Ada_Lovelace/Ada_Lovelace_0001.jpg",
        "Ada_Lovelace/Ada_Lovelace_0002.jpg",
        "Carl_Gauss/Carl_Gauss_0001.jpg",
    ]
    for name, face in zip(names, _faces(len(names)), strict=True):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        iio.imwrite(root / name, np.repeat(face[:, :, None], 3, axis=2), extension=".jpg")
    (root / "README.txt").write_text("not an image")
    return root


def test_lfw_folder_and_tgz_agree(lfw_tree: Path, tmp_path: Path) -> None:
    archive = tmp_path / "lfw.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(lfw_tree, arcname="lfw")
    folder, packed = open_source(f"lfw:{lfw_tree}"), open_source(f"lfw:{archive}")
    assert len(folder) == len(packed) == 3
    assert "3 images" in packed.name
    faces = _faces(3)
    for i in range(3):
        a, b = folder.image(i), packed.image(i)
        assert a.shape == (40, 30) and a.dtype == np.float32
        np.testing.assert_array_equal(a, b)  # same JPEG bytes, same decoder
        assert np.abs(a - faces[i] / 255.0).mean() < 0.02  # JPEG is lossy; gray in, gray out
    assert folder.keys == [
        "Ada_Lovelace/Ada_Lovelace_0001.jpg",
        "Ada_Lovelace/Ada_Lovelace_0002.jpg",
        "Carl_Gauss/Carl_Gauss_0001.jpg",
    ]
    assert packed.keys == ["lfw/" + key for key in folder.keys]


def test_folder_png_tiff_sorted(tmp_path: Path) -> None:
    gray8 = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    gray16 = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000).astype(np.uint16)
    rgb = np.zeros((3, 4, 3), dtype=np.uint8)
    rgb[..., 1] = 255  # pure green: luminance 0.7154
    iio.imwrite(tmp_path / "b.png", gray8)
    iio.imwrite(tmp_path / "a.tif", gray16)
    (tmp_path / "sub").mkdir()
    iio.imwrite(tmp_path / "sub" / "c.PNG", rgb, extension=".png")
    (tmp_path / "notes.txt").write_text("skip me")
    source = open_source(f"folder:{tmp_path}")
    assert source.keys == ["a.tif", "b.png", "sub/c.PNG"]
    np.testing.assert_allclose(source.image(0), gray16 / 65535.0, atol=1e-6)
    np.testing.assert_allclose(source.image(1), gray8 / 255.0, atol=1e-6)
    np.testing.assert_allclose(source.image(2), 0.7154, atol=1e-4)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("faces", "unknown source; known: mnist, mnist:PATH"),
        ("mnist:/no/such/folder", "does not exist"),
        ("lfw:/no/such/lfw.tgz", "does not exist"),
        ("folder:/no/such/folder", "does not exist"),
        ("folder:", "expected a path"),
        ("mix:mnist", "no weight"),
        ("mix:mnist=-1", "must be positive"),
        ("blobs:size=big", "not an integer"),
        ("digits:extra", "takes no argument"),
    ],
)
def test_bad_specs_name_the_spec(spec: str, expected: str) -> None:
    with pytest.raises(TargetSpecError) as caught:
        open_source(spec)
    message = str(caught.value)
    assert f"target source {spec!r}" in message and expected in message
    assert "\n" not in message


def test_empty_folder_and_bad_archive(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(TargetSpecError, match="contains no PNG/JPG/JPEG/TIF/TIFF images"):
        open_source(f"folder:{tmp_path / 'empty'}")
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png at all")
    with pytest.raises(TargetSpecError, match=r"cannot decode image broken\.png"):
        open_source(f"folder:{tmp_path}").image(0)


def test_bundled_sets() -> None:
    mnist, lfw, digits = open_source("mnist"), open_source("lfw"), open_source("digits")
    assert (len(mnist), len(lfw), len(digits)) == (5000, 100, 1797)
    assert mnist.image(0).shape == (28, 28) and lfw.image(99).shape == (25, 25) and digits.image(5).shape == (8, 8)
    assert mnist.name == "mnist (bundled, 5000 digits)"
    assert sorted(np.unique(mnist.labels)) == list(range(10))
    for source in (mnist, lfw, digits):
        image = source.image(len(source) - 1)
        assert image.dtype == np.float32 and image.min() >= 0.0 and image.max() <= 1.0
    # lfw_subset: 100 faces then 100 non-faces; the source keeps exactly the faces
    from skimage import data

    np.testing.assert_allclose(lfw.image(99), data.lfw_subset()[99], atol=1e-6)
    with pytest.raises(IndexError):
        lfw.image(100)


@pytest.mark.parametrize("kind", ["blobs", "binary", "natural"])
def test_generators_deterministic_per_index(kind: str) -> None:
    a, b, other = open_source(kind, seed=1), open_source(kind, seed=1), open_source(kind, seed=2)
    assert len(a) == 100_000
    for i in (0, 7, 99_999):
        np.testing.assert_array_equal(a.image(i), b.image(i))
    np.testing.assert_array_equal(a.image(7), open_source(kind, seed=1).image(7))  # without drawing 0 first
    assert not np.array_equal(a.image(3), other.image(3))
    assert not np.array_equal(a.image(3), a.image(4))
    image = a.image(11)
    assert image.dtype == np.float32 and image.min() >= 0 and image.max() <= 1
    if kind == "binary":
        assert set(np.unique(image)) <= {0.0, 1.0}


def test_generator_options() -> None:
    source = open_source("blobs:size=24:n=50", seed=3)
    assert len(source) == 50 and source.image(49).shape == (24, 24)
    assert open_source("natural:size=16").image(0).shape == (16, 16)


def test_mixture_proportions_and_order() -> None:
    source = open_source("mix:lfw=0.25,digits=0.75", seed=4)
    assert isinstance(source, TargetSource)
    n = len(source)
    assert n == max(100 * 4, int(np.ceil(1797 / 0.75)))
    counts = np.bincount(source.component)
    assert counts[0] == round(0.25 * n) and counts.sum() == n
    first_faces = [source.origin(i)[1] for i in np.flatnonzero(source.component == 0)[:100]]
    assert sorted(first_faces) == list(range(100))  # every face once before any repeats
    np.testing.assert_array_equal(source.image(17), open_source("mix:lfw=0.25,digits=0.75", seed=4).image(17))
    assert not np.array_equal(source.component, open_source("mix:lfw=0.25,digits=0.75", seed=5).component)
    c, inner = source.origin(17)
    np.testing.assert_array_equal(source.image(17), source.sources[c].image(inner))
    mixed = mix_sources([open_source("binary"), open_source("blobs")], [1, 3], seed=0, length=8)
    assert np.bincount(mixed.component).tolist() == [2, 6]


def test_listing_covers_every_kind() -> None:
    syntaxes = [syntax for syntax, _ in list_sources()]
    for prefix in (
        "mnist",
        "mnist:PATH",
        "digits",
        "lfw",
        "lfw:PATH",
        "folder:PATH",
        "natural",
        "blobs",
        "binary",
        "mix:",
    ):
        assert any(s.startswith(prefix) for s in syntaxes), prefix


def test_every_ready_spec_opens_as_it_is_and_has_targets() -> None:
    """The pick lists of the panel offer these: each must open with no path or option to fill in."""
    kinds = {syntax.partition(":")[0].partition("[")[0] for syntax, _ in list_sources()}
    for spec in READY_SPECS:
        assert spec.partition(":")[0] in kinds, spec
        source = open_source(spec)
        assert len(source) > 0 and source.image(0).ndim == 2, spec


def test_choose_indices_seeded_without_repeats() -> None:
    first = choose_indices(5000, 1000, seed=3)
    assert len(np.unique(first)) == 1000 and first.dtype == np.int64
    np.testing.assert_array_equal(first, choose_indices(5000, 1000, seed=3))
    assert not np.array_equal(first, choose_indices(5000, 1000, seed=4))
    labels = open_source("mnist").labels[first]  # the file is sorted by digit; a drawn set is not
    assert np.bincount(labels, minlength=10).min() > 60
    several_passes = choose_indices(100, 250, seed=0)
    assert sorted(several_passes[:100]) == list(range(100)) and sorted(several_passes[100:200]) == list(range(100))
