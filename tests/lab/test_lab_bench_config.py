"""The bench file: the built-in default is the packaged TOML, files round-trip, and bad files give one clear
line per problem naming the file, the key path and what was expected."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import pytest

from speckle_lab.lab.bench_config import (
    BenchConfig,
    BenchConfigError,
    PhaseScreenSettings,
    default_bench_text,
    dumps_toml,
    load_bench,
    parse_bench,
    section_variants,
)

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "bench.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    """The error lines for a bench file with `text`; fails if the file loads."""
    path = write(tmp_path, text)
    with pytest.raises(BenchConfigError) as caught:
        load_bench(path)
    lines = str(caught.value).splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines), lines
    assert caught.value.problems == [line.removeprefix(f"{path}: ") for line in lines]
    return caught.value.problems


def test_builtin_default_is_the_packaged_file_and_the_simulated_bench() -> None:
    config = load_bench(None)
    assert config == BenchConfig()  # the file and the model defaults agree
    assert tomllib.loads(default_bench_text())["camera"]["exposure_us"] == 40.0
    assert (config.dmd.mirror_rows, config.dmd.mirror_cols) == (256, 256)
    assert (config.dmd.macropixel_mirrors, config.dmd.side_macropixels) == (4, 64)
    assert config.dmd.active_origin == (0, 0)  # 64 * 4 = 256 mirrors: centred fills the array
    assert (config.camera.rows, config.camera.cols, config.camera.bit_depth) == (128, 128, 12)
    assert config.camera.exposure_us == 40.0
    assert (config.laser.max_power_w, config.laser.power_w) == (0.1, 0.05)
    assert (config.medium.kind, config.medium.seed, config.medium.grain_px) == ("transmission_matrix", 1, 2.0)
    assert config.simulated


def test_docs_quote_the_default_file_verbatim() -> None:
    docs = (REPO / "docs" / "bench.md").read_text(encoding="utf-8")
    assert default_bench_text() in docs


def test_missing_keys_and_sections_take_defaults_and_active_area_is_centred(tmp_path: Path) -> None:
    path = write(tmp_path, "[dmd]\nmirror_rows = 300\nmirror_cols = 320\n\n[camera]\nexposure_us = 100\n")
    config = load_bench(path)
    assert config.camera.exposure_us == 100.0 and isinstance(config.camera.exposure_us, float)
    assert config.dmd.active_origin == ((300 - 256) // 2, (320 - 256) // 2)
    assert config.laser == BenchConfig().laser
    assert config.dmd.backend == "sim" and config.camera.backend == "sim"


def test_round_trip_through_toml(tmp_path: Path) -> None:
    config = BenchConfig().with_changes(
        bench={"name": 'bench "B" \\ east', "seed": 7},
        laser={"power_w": 0.0125},
        dmd={"mirror_rows": 300, "active_top": 5, "side_macropixels": 32, "macropixel_mirrors": 8},
        camera={"exposure_us": 123.456, "gain_db": 6.0, "bit_depth": 10},
        medium={"kind": "phase_screen", "seed": 3, "phase_std_rad": math.pi, "correlation_px": 2.5},
        sim={"coherent_gray": True, "photons_per_joule": 1.5e9},
    )
    assert isinstance(config.medium, PhaseScreenSettings)
    path = write(tmp_path, dumps_toml(config))
    again = load_bench(path)
    assert again == config
    assert again.medium.phase_std_rad == math.pi
    assert again.bench.name == 'bench "B" \\ east'
    assert json.loads(json.dumps(config.to_dict())) == config.to_dict()  # plain values for data files
    # An unset offset stays "centred" (None) rather than a number, so a later size change re-centres it.
    assert config.to_dict()["dmd"]["active_left"] is None and config.to_dict()["dmd"]["active_top"] == 5
    assert "active_left" not in dumps_toml(config)
    assert config.dmd.active_origin == (5, (256 - 256) // 2)
    assert config.with_changes(dmd={"side_macropixels": 16}).dmd.active_origin == (5, (256 - 128) // 2)


def test_known_variants() -> None:
    assert set(section_variants("laser")) == {"sim", "cobolt", "obis"}
    assert set(section_variants("medium")) == {"transmission_matrix", "phase_screen"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[camera]\nexposure_us = "fast"\n', 'camera.exposure_us: expected a number, got "fast"'),
        ("[camera]\nexposure_us = -40.0\n", "camera.exposure_us: expected a number > 0.0, got -40.0"),
        ("[camera]\nrows = 127.5\n", "camera.rows: expected an integer, got 127.5"),
        ("[sim]\nrealtime = 1\n", "sim.realtime: expected true or false, got 1"),
        ("[camera]\nbit_depth = 20\n", "camera.bit_depth: expected a number <= 16, got 20"),
        ("[laser]\npower_w = 0.5\n", "laser.power_w: power 0.5 W is above the safety limit laser.max_power_w = 0.1 W"),
        ("laser = 3\n", "laser: expected a table, got 3"),
    ],
    ids=["string-for-number", "negative-exposure", "float-for-int", "int-for-bool", "bit-depth", "power", "table"],
)
def test_wrong_values_name_the_key_and_what_was_expected(tmp_path: Path, text: str, expected: str) -> None:
    assert problems(tmp_path, text) == [expected]


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    [line] = problems(tmp_path, "[camera]\nexposre_us = 40.0\n")
    assert line.startswith("camera.exposre_us: unknown key for backend 'sim'; did you mean 'exposure_us'?")
    assert "gain_db" in line  # lists the known keys


def test_unknown_section(tmp_path: Path) -> None:
    [line] = problems(tmp_path, "[cammera]\nrows = 10\n")
    assert line.startswith("cammera: unknown section; did you mean 'camera'? known sections: bench, laser, dmd")


def test_key_of_another_medium_kind_is_unknown(tmp_path: Path) -> None:
    [line] = problems(tmp_path, '[medium]\nkind = "transmission_matrix"\nphase_std_rad = 1.0\n')
    assert line.startswith("medium.phase_std_rad: unknown key for kind 'transmission_matrix'")


def test_unknown_backend_lists_the_known_ones(tmp_path: Path) -> None:
    assert problems(tmp_path, '[laser]\nbackend = "acme"\nmax_power_w = 0.1\n') == [
        "laser.backend: unknown backend 'acme'; known backends: cobolt, obis, sim"
    ]
    assert problems(tmp_path, '[medium]\nkind = "fog"\n') == [
        "medium.kind: unknown kind 'fog'; known kinds: phase_screen, transmission_matrix"
    ]


def test_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    [line] = problems(tmp_path, "[camera]\nexposure_us = 40.0\nrows 128\n")
    assert line.startswith("TOML syntax error: ")
    assert "line 3" in line


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(BenchConfigError, match=r"nope\.toml: cannot read the bench file: No such file"):
        load_bench(missing)
    with pytest.raises(BenchConfigError, match="cannot read the bench file"):
        load_bench(tmp_path)  # a folder
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[bench]\nname = "caf\xe9"\n')
    with pytest.raises(BenchConfigError, match="not UTF-8"):
        load_bench(bad)


def test_medium_larger_than_the_dmd_is_refused(tmp_path: Path) -> None:
    # 128 macropixels of 4 mirrors would need 512 mirrors: the medium's 128^2 inputs cannot be shown.
    [line] = problems(tmp_path, "[dmd]\nside_macropixels = 128\n")
    assert line.startswith("dmd.side_macropixels: 128 macropixels of 4 mirrors need 512 mirrors per side")
    [line] = problems(tmp_path, "[dmd]\nside_macropixels = 32\nactive_left = 200\n")
    assert line == "dmd.active_left: an active area of 128 mirrors at 200 does not fit 256 mirrors"


def test_every_problem_is_reported_once_per_line(tmp_path: Path) -> None:
    lines = problems(tmp_path, '[laser]\nbackend = "acme"\n\n[camera]\nexposure_us = 0\ngain = 3.0\n')
    assert len(lines) == 3
    assert lines[0].startswith("laser.backend: unknown backend 'acme'")
    assert lines[1].startswith("camera.exposure_us: expected a number > 0.0")
    assert lines[2].startswith("camera.gain: unknown key")


def test_error_is_a_value_error_and_parse_names_its_source() -> None:
    with pytest.raises(ValueError, match=r"^inline: camera\.gain_db: expected a number >= 0\.0, got -1\.0$"):
        parse_bench("[camera]\ngain_db = -1.0\n", "inline")


def test_a_real_laser_section_names_its_missing_key(tmp_path: Path) -> None:
    """A vendor backend's own keys are checked like any other: the message names the key, not the union tag."""
    assert problems(tmp_path, '[laser]\nbackend = "cobolt"\n') == [
        "laser.port: required for backend 'cobolt', but not given"
    ]
