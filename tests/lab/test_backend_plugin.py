"""A backend from another package: the camera of docs/drivers.md, installed as a package of its own with one
entry point, is validated by its settings class and opened by its factory, with nothing in lab/ edited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import json, sys
import numpy as np
from speckle_lab.drivers import DeviceTimeout, TriggerMode
from speckle_lab.lab.bench import CAMERA_BACKENDS
from speckle_lab.lab.bench_config import BenchConfigError, parse_bench

bench = '[camera]\\nbackend = "replay"\\nframes_path = "{frames}"\\nexposure_us = 80.0\\n'
config = parse_bench(bench, "replay.toml")
try:
    parse_bench(bench + "lopo = false\\n", "typo.toml")
    typo = ""
except BenchConfigError as error:
    typo = str(error)
camera = CAMERA_BACKENDS["replay"].open(config.camera, "replay.toml")
camera.set_trigger_mode(TriggerMode.SOFTWARE)
camera.start()
camera.software_trigger()
frame = camera.read(0.1)
try:
    camera.read(0.05)
    timeout = ""
except DeviceTimeout as error:
    timeout = str(error)
camera.close()
camera.close()
print(json.dumps({{"shape": list(camera.shape), "exposure_us": camera.exposure_us, "pixels": frame.pixels.tolist(),
                  "identity": str(camera.identity), "typo": typo, "timeout": timeout}}))
"""


def _install_example(site: Path) -> None:
    text = (ROOT / "docs" / "drivers.md").read_text()
    start = text.index('```python\n"""replay_camera.py')
    code = text[start + len("```python\n") : text.index("```", start + 10)]
    (site / "replay_camera.py").write_text(code)
    dist = site / "replay_camera-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: replay-camera\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        '[speckle_lab.backends]\nreplay = "replay_camera:BACKEND"\n'.replace('"', "")
    )


def test_the_documented_camera_plugs_in_through_its_entry_point(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _install_example(site)
    frames = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)
    np.save(tmp_path / "frames.npy", frames)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    run = subprocess.run(
        [sys.executable, "-c", CHECK.format(frames=tmp_path / "frames.npy")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["shape"] == [4, 5] and result["exposure_us"] == 80.0
    assert np.array_equal(np.array(result["pixels"]), frames[0])
    assert "lopo" in result["typo"] and "typo.toml" in result["typo"]
    assert "replay" in result["timeout"] and "read" in result["timeout"]


def test_without_the_package_the_backend_is_unknown() -> None:
    from speckle_lab.lab.bench import CAMERA_BACKENDS

    assert "replay" not in CAMERA_BACKENDS and {"sim", "genicam"} <= set(CAMERA_BACKENDS)


BROKEN_CHECK = """
import json, logging
from speckle_lab.lab.bench import CAMERA_BACKENDS
from speckle_lab.lab.bench_config import BenchConfigError, parse_bench
from speckle_lab.lab.commands.devices import describe, format_table

report = describe(None)  # the built-in simulated bench still opens
try:
    parse_bench('[camera]\\nbackend = "broken"\\n', "broken.toml")
    unknown = ""
except BenchConfigError as error:
    unknown = str(error)
print(json.dumps({{"backends": sorted(CAMERA_BACKENDS), "table": format_table(report),
                  "left_out": report["plugins_left_out"], "unknown": unknown}}))
"""


def test_a_plugin_that_fails_to_load_is_left_out_and_named_the_others_work(tmp_path: Path) -> None:
    """A plugin module that raises on import breaks neither bench loading nor the other plugins."""
    site = tmp_path / "site"
    site.mkdir()
    _install_example(site)  # a good plugin beside the broken one
    (site / "broken_backend.py").write_text('raise ImportError("needs acme_sdk, which is not installed")\n')
    dist = site / "broken_backend-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-backend\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[speckle_lab.backends]\nbroken = broken_backend:BACKEND\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    run = subprocess.run(
        [sys.executable, "-c", BROKEN_CHECK.format()], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    line = "backend plugin 'broken = broken_backend:BACKEND' (broken-backend) is left out: ImportError: needs acme_sdk"
    assert "replay" in result["backends"] and {"sim", "genicam"} <= set(result["backends"])
    assert [entry.split(", which")[0] for entry in result["left_out"]] == [line]
    assert f"WARNING: {line}" in result["table"]
    assert line in run.stderr  # logged once, as a warning, when the plugins were loaded
    assert run.stderr.count("left out") == 1
    assert "unknown backend 'broken'" in result["unknown"] and line in result["unknown"]
