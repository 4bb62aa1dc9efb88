"""A backend from another package: the camera and the laser of docs/drivers.md, each installed as a package of its
own with one entry point, are validated by their settings class and opened by their factory, with nothing in lab/
edited; the laser honours the emission veto without a line about it, and a laser plugin that writes its own
`set_emission` (or returns something that only looks like a laser) is refused."""

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


def _install_example(site: Path, module: str = "replay_camera", name: str = "replay") -> None:
    """The example of docs/drivers.md whose code block starts with `module`'s docstring, as an installed package."""
    text = (ROOT / "docs" / "drivers.md").read_text()
    start = text.index(f'```python\n"""{module}.py')
    _install(site, module, name, text[start + len("```python\n") : text.index("```", start + 10)])


def _install(site: Path, module: str, name: str, code: str) -> None:
    (site / f"{module}.py").write_text(code)
    dist = site / f"{module}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[speckle_lab.backends]\n{name} = {module}:BACKEND\n")


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


LASER_CHECK = """
import json
from pathlib import Path
from speckle_lab.acquisition.laser_lifecycle import ArmingStopped, LaserState, lifecycle_of
from speckle_lab.drivers import DeviceError, LaserFault
from speckle_lab.lab.backend_registry import plugin_failures
from speckle_lab.lab.bench import LASER_BACKENDS
from speckle_lab.lab.bench_config import parse_bench

shutter, interlock = Path({shutter!r}), Path({interlock!r})
bench = f'[laser]\\nbackend = "shutter"\\nshutter_gpio = "{{shutter}}"\\n'
bench += f'interlock_gpio = "{{interlock}}"\\npower_w = 0.02\\n'
laser = LASER_BACKENDS["shutter"].open(parse_bench(bench, "shutter.toml").laser, "shutter.toml")
closed_at_open = shutter.read_text()
lifecycle = lifecycle_of(laser)
lifecycle.arm(lifecycle.stops, 0.02)
armed = (lifecycle.state.value, shutter.read_text())
lifecycle.switch_off("at the end")
switched_off = (lifecycle.state.value, shutter.read_text())

switched = []
ready, switch = type(laser)._check_ready_to_emit, type(laser)._switch_emission
def interlock_read_then_a_signal(self):
    ready(self)
    lifecycle.request_stop("SIGTERM")  # as the signal handler does, while the interlock was being read
def record(self, on):
    switched.append(on)
    switch(self, on)
type(laser)._check_ready_to_emit, type(laser)._switch_emission = interlock_read_then_a_signal, record
try:
    lifecycle.arm(lifecycle.stops, 0.02)
    stopped = ""
except ArmingStopped as error:
    stopped = repr(error.__cause__)
type(laser)._check_ready_to_emit, type(laser)._switch_emission = ready, switch
interlock.write_text("0")
try:
    laser.set_emission(True)
    refused = ""
except LaserFault as error:
    refused = str(error)
try:
    LASER_BACKENDS["lookalike"].open(parse_bench('[laser]\\nbackend = "lookalike"\\n', "x.toml").laser, "x.toml")
    lookalike = ""
except DeviceError as error:
    lookalike = str(error)
laser.close()
print(json.dumps({{"closed_at_open": closed_at_open, "armed": armed, "switched_off": switched_off,
                  "stopped": stopped, "switched": switched, "after_stop": shutter.read_text(), "refused": refused,
                  "lookalike": lookalike, "left_out": [str(failure) for failure in plugin_failures()],
                  "backends": sorted(LASER_BACKENDS)}}))
"""

FORGETFUL_LASER = """
from speckle_lab.sim.laser import SimulatedLaser

class ForgetfulLaser(SimulatedLaser):
    def set_emission(self, on):  # straight to the light, no veto
        self._emission = on
"""

LOOKALIKE_LASER = """
from typing import Literal
from speckle_lab.lab.backend_registry import DeviceBackend
from speckle_lab.lab.bench_config import LaserSettings

class LookalikeSettings(LaserSettings):
    backend: Literal["lookalike"]

class Lookalike:
    closed = False
    def set_emission(self, on): ...
    def close(self): type(self).closed = True

BACKEND = DeviceBackend("laser", "lookalike", LookalikeSettings, lambda settings, source: Lookalike())
"""


def test_the_documented_laser_plugs_in_and_a_stop_during_its_arming_never_opens_the_shutter(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _install_example(site, "shutter_laser", "shutter")
    _install(site, "forgetful_laser", "forgetful", FORGETFUL_LASER)
    _install(site, "lookalike_laser", "lookalike", LOOKALIKE_LASER)
    shutter, interlock = tmp_path / "gpio17_value", tmp_path / "gpio27_value"
    shutter.write_text("1\n")  # left open
    interlock.write_text("1\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    run = subprocess.run(
        [sys.executable, "-c", LASER_CHECK.format(shutter=str(shutter), interlock=str(interlock))],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["closed_at_open"] == "0" and {"shutter", "lookalike", "sim"} <= set(result["backends"])
    assert result["armed"] == ["emitting", "1"] and result["switched_off"] == ["off", "0"]
    # the stop arrived after the interlock read, before the shutter command: the veto refused it, nothing was sent
    assert "EmissionVetoed" in result["stopped"] and "shutter open: not sent" in result["stopped"]
    assert result["switched"] == [False] and result["after_stop"] == "0"  # only the lifecycle's switch-off
    assert "shutter open: the interlock is open" in result["refused"]
    lookalike = "laser backend 'lookalike': open: its factory returned a Lookalike, not a speckle_lab.drivers.Laser"
    assert result["lookalike"].startswith(lookalike)
    [forgetful] = result["left_out"]
    assert forgetful.startswith("backend plugin 'forgetful = forgetful_laser:BACKEND' (forgetful-laser) is left out")
    assert "TypeError: forgetful_laser.ForgetfulLaser defines set_emission" in forgetful
