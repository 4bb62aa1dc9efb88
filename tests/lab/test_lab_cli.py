"""The `speckle-lab` command: `devices` shows the bench, `demo` runs end to end, and operator errors are one
line on stderr with exit code 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from speckle_lab.lab.cli import main

IDENTITIES = ("SimLaser 532 nm", "SimDMD 256x256", "SimCam 128x128 12-bit")


def test_devices_prints_identities_and_state(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("bench: simulated bench  (built-in bench (lab/default_bench.toml))")
    for model in IDENTITIES:
        assert f"speckle-lab {model}" in out
    assert "serial SIM-L-0001, firmware 1.0, backend sim" in out
    lines = out.splitlines()
    assert any(line.split() == ["power_setpoint_w", "0.05"] for line in lines)
    assert any(line.split() == ["emission", "False"] for line in lines)
    assert any(line.split() == ["exposure_us", "40.0"] for line in lines)


def test_devices_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = tmp_path / "east.toml"
    bench.write_text('[bench]\nname = "east table"\n\n[laser]\npower_w = 0.02\n', encoding="utf-8")
    assert main(["devices", "--bench", str(bench), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["bench"] == "east table" and report["source"] == str(bench)
    assert list(report["devices"]) == ["laser", "dmd", "camera"]
    assert report["devices"]["laser"]["identity"]["model"] == "SimLaser 532 nm"
    assert report["devices"]["laser"]["state"]["power_setpoint_w"] == 0.02
    assert report["devices"]["laser"]["state"]["emission"] is False
    assert report["devices"]["camera"]["state"]["sensor_shape"] == [128, 128]
    assert report["devices"]["dmd"]["state"]["mirror_shape"] == [256, 256]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[camera]\nexposure_us = -40.0\n", "camera.exposure_us: expected a number > 0.0, got -40.0"),
        ('[laser]\nbackend = "acme"\n', "laser.backend: unknown backend 'acme'; known backends: cobolt, obis, sim"),
        ("[camera]\nexposure_us = 40.0\nrows 128\n", "TOML syntax error: "),
        ("[camera]\nexposure_us = 2e7\n", "camera.exposure_us: the device refuses 20000000.0"),
    ],
    ids=["negative-exposure", "unknown-backend", "syntax", "device-refuses"],
)
def test_bad_bench_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    bench = tmp_path / "bad.toml"
    bench.write_text(text, encoding="utf-8")
    assert main(["devices", "--bench", str(bench)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith(f"speckle-lab: error: {bench}: {expected}")


def test_missing_bench_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.toml"
    assert main(["devices", "--bench", str(missing)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == f"speckle-lab: error: {missing}: cannot read the bench file: No such file or directory"


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "required: COMMAND" in capsys.readouterr().err
    assert main(["demo"]) == 2  # --out is required
    assert "--out" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "devices" in capsys.readouterr().out


def test_installed_console_script_runs() -> None:
    script = Path(sys.executable).parent / "speckle-lab"
    if not script.exists():
        pytest.skip("speckle-lab is not installed in this environment")
    result = subprocess.run([str(script), "devices"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    for model in IDENTITIES:
        assert model in result.stdout
    bad = subprocess.run(
        [str(script), "devices", "--bench", "/nonexistent/bench.toml"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        "speckle-lab: error: /nonexistent/bench.toml: cannot read the bench file: No such file or directory"
    ]
