"""A capture file against speckle-lab's own NeXus application definition, NXspeckle_capture, with nexusformat's
validator (`nxvalidate`; nexusformat ships the NeXus definitions, so it works offline).

Result when this was written (nexusformat 2.1.0, NeXus definitions v2026.01): the application definition lints
clean (0 warnings, 0 errors); a finished capture validates against it with 0 warnings and 0 errors; the base-class
check (`nxcheck`) gives 0 errors and warnings only for the fields the file adds to the base classes (device
identities and settings, the JSON records, the capture status: "This field is not defined in NX...").
"""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import pytest

from speckle_lab.acquisition.datafile.nexus import APPLICATION_DEFINITION, DEFINITION
from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.lab.bench import Bench
from speckle_lab.lab.capture_service import make_run

validate = pytest.importorskip("nexusformat.nexus.validate", reason="nexusformat (a dev dependency) is not installed")

PLAN = {
    "targets": "blobs",
    "n_frames": 16,
    "target_rows": 16,
    "target_cols": 16,
    "block_frames": 8,
    "reference_every": 8,
    "dark_frames": 2,
    "read_timeout_s": 0.5,
}


@pytest.fixture(scope="module")
def nxdl() -> str:
    return str(APPLICATION_DEFINITION)


@pytest.fixture
def captured(small_bench: Bench, tmp_path: Path) -> Path:
    path = tmp_path / "run.h5"
    result = make_run(CapturePlan.model_validate(PLAN), small_bench, path).run()
    assert result.ok, result.message
    return path


def test_the_application_definition_lints_clean(nxdl: str) -> None:
    assert validate.lint_nxdl(nxdl) == []


def test_a_capture_names_and_conforms_to_its_application_definition(captured: Path, nxdl: str) -> None:
    with h5py.File(captured, "r") as f:
        assert f["/entry/definition"].asstr()[()] == DEFINITION == "NXspeckle_capture"
    assert validate.validate_application(str(captured), path="/entry", application=nxdl) == (0, 0)
    warnings, errors = validate.validate_file(str(captured))  # the base classes: extra fields are warnings only
    assert errors == 0 and warnings > 0


def test_a_file_that_breaks_the_definition_fails_validation(captured: Path, nxdl: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.h5"
    shutil.copy(captured, broken)
    with h5py.File(broken, "r+") as f:
        del f["/entry/frames/target_index"]  # a required field
        del f["/entry/definition"]
        f["/entry"].create_dataset("definition", data="NXsomething_else", dtype=h5py.string_dtype())
    _, errors = validate.validate_application(str(broken), path="/entry", application=nxdl)
    assert errors >= 2  # the missing field, the wrong definition
