"""Image files at a user's path: a folder searched recursively, or a tar archive (.tar, .tgz, .tar.gz, ...)
read with `tarfile` without extracting anything to disk. LFW is either of these, restricted to JPEGs."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path, PurePosixPath

import imageio.v3 as iio
import numpy as np

from speckle_lab.acquisition.targets.base import check_index
from speckle_lab.acquisition.targets.errors import TargetSpecError
from speckle_lab.acquisition.targets.images import to_unit_gray

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
JPEG_SUFFIXES = (".jpg", ".jpeg")
# One decoder per format (both come with scikit-image): imageio would otherwise try every plugin it knows
# on a broken file, with their warnings, before failing.
PLUGINS = {".png": "pillow", ".jpg": "pillow", ".jpeg": "pillow", ".tif": "tifffile", ".tiff": "tifffile"}


class FileSource:
    """Images named by sorted relative path (POSIX separators, case-sensitive order), decoded on demand.

    A folder keeps only the paths; an archive is read once, at open, into memory as its encoded bytes
    (the 173 MB LFW .tgz holds about 180 MB of JPEGs): random access into a gzip stream would otherwise
    decompress from the start for every image."""

    def __init__(self, spec: str, kind: str, path: Path, suffixes: tuple[str, ...]) -> None:
        self.spec = spec
        self.kind = kind
        self.path = path
        self._files: dict[str, Path] = {}
        self._blobs: dict[str, bytes] = {}
        if path.is_dir():
            self._files = _list_folder(path, suffixes)
        elif path.is_file() and tarfile.is_tarfile(path):
            self._blobs = _read_archive(spec, path, suffixes)
        elif path.exists():
            raise TargetSpecError(spec, f"{path} is neither a folder nor a tar archive (.tar, .tgz, .tar.gz)")
        else:
            raise TargetSpecError(spec, f"{path} does not exist (expected a folder of images or a tar archive)")
        self.keys = sorted(self._files or self._blobs)
        if not self.keys:
            wanted = "/".join(s.lstrip(".").upper() for s in suffixes)
            raise TargetSpecError(spec, f"{path} contains no {wanted} images")

    @property
    def name(self) -> str:
        container = "archive" if self._blobs else "folder"
        return f"{self.kind} ({container} {self.path}, {len(self)} images)"

    def __len__(self) -> int:
        return len(self.keys)

    def image(self, index: int) -> np.ndarray:
        key = self.keys[check_index(self, index)]
        suffix = PurePosixPath(key).suffix.lower()
        try:
            if self._blobs:
                pixels = iio.imread(io.BytesIO(self._blobs[key]), plugin=PLUGINS[suffix], extension=suffix)
            else:
                pixels = iio.imread(self._files[key], plugin=PLUGINS[suffix])
            return to_unit_gray(pixels)
        except (OSError, ValueError, RuntimeError) as error:
            raise TargetSpecError(self.spec, f"cannot decode image {key}: {error}") from error


def _list_folder(root: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    return {
        path.relative_to(root).as_posix(): path
        for path in root.rglob("*")
        if path.suffix.lower() in suffixes and path.is_file() and not path.name.startswith(".")
    }


def _read_archive(spec: str, path: Path, suffixes: tuple[str, ...]) -> dict[str, bytes]:
    blobs: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                name = PurePosixPath(member.name)
                if member.isfile() and name.suffix.lower() in suffixes and not name.name.startswith("."):
                    handle = archive.extractfile(member)
                    if handle is not None:
                        blobs[name.as_posix()] = handle.read()
    except (OSError, EOFError, tarfile.TarError) as error:
        raise TargetSpecError(spec, f"cannot read the archive {path}: {error}") from error
    return blobs


def open_folder(spec: str, path: str) -> FileSource:
    return FileSource(spec, "folder", Path(path).expanduser(), IMAGE_SUFFIXES)


def open_lfw(spec: str, path: str) -> FileSource:
    return FileSource(spec, "lfw", Path(path).expanduser(), JPEG_SUFFIXES)
