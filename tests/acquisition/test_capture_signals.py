"""The laser is off on every exit: a Cobolt laser on a pty, a real `speckle-lab capture` process, each
catchable termination signal; and, in-process, a stop during the start darks and a switch-off that fails."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cobolt_capture import bench_with_cobolt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "drivers"))
from fake_cobolt import FakeCobolt

from speckle_lab.acquisition.control import CaptureControl
from speckle_lab.acquisition.datafile import CaptureFileError, CaptureReader
from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.lab.capture_service import make_run

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).resolve().parent / "cobolt_capture.py"
N_FRAMES = 600
PLAN = {"targets": "blobs", "n_frames": N_FRAMES, "target_rows": 16, "target_cols": 16, "block_frames": 16}


@pytest.fixture
def cobolt() -> Iterator[FakeCobolt]:
    with FakeCobolt() as device:
        yield device


def committed_rows(path: Path) -> int:
    try:
        with CaptureReader(path) as reader:
            return reader.n_frames
    except (CaptureFileError, OSError):
        return -1


def laser_commands(cobolt: FakeCobolt) -> list[str]:
    return [command for command in cobolt.received if command in ("l0", "l1")]


ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def capture_mid_rows(cobolt: FakeCobolt, out: Path) -> subprocess.Popen:
    """A `speckle-lab capture` process with the light on and rows committed."""
    command = [
        sys.executable, str(LAUNCHER), cobolt.port_name, "capture", "--targets", "blobs", "--n", str(N_FRAMES),
        "--out", str(out), "--target-size", "16", "--block", "16", "--quiet",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=out.parent)
    deadline = time.monotonic() + 30
    while "l1" not in cobolt.received or not cobolt.emission:  # switched on by the capture: rows are coming
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the capture never switched the laser on"
        time.sleep(0.01)
    while committed_rows(out) < 16:  # mid-capture: light on, rows committed
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the capture committed no row"
        time.sleep(0.01)
    return process


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGINT])
def test_each_termination_signal_switches_emission_off_and_leaves_a_resumable_file(
    tmp_path: Path, cobolt: FakeCobolt, signum: signal.Signals
) -> None:
    out = tmp_path / "run.h5"
    process = capture_mid_rows(cobolt, out)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    stderr_text = stderr.decode()

    assert process.returncode == 128 + signum, stderr_text
    assert "Traceback" not in stderr_text
    assert not cobolt.emission
    assert laser_commands(cobolt)[-1] == "l0"
    with CaptureReader(out) as reader:
        assert reader.status == "aborted"
        assert 0 < reader.n_frames < N_FRAMES
        kinds = [event["kind"] for event in reader.events()]
        assert "laser_off" in kinds and "aborted" in kinds
        reason = next(e["message"] for e in reader.events() if e["kind"] == "aborted")
    assert signal.Signals(signum).name in reason
    assert f"speckle-lab capture --resume {out}" in stderr_text

    if signum == signal.SIGHUP:  # one of them resumed to the end (each resume costs a few seconds)
        resume = [sys.executable, str(LAUNCHER), cobolt.port_name, "capture", "--resume", str(out), "--quiet"]
        done = subprocess.run(resume, capture_output=True, text=True, env=ENV, timeout=60)
        assert done.returncode == 0, done.stderr
        with CaptureReader(out) as reader:
            assert reader.n_frames == N_FRAMES and reader.status == "complete"
        assert not cobolt.emission and laser_commands(cobolt)[-1] == "l0"


@pytest.mark.parametrize("stuck_on", [False, True], ids=["normal", "stuck_on"])
def test_ctrl_c_twice_never_skips_the_read_back_nor_hides_the_alarm(
    tmp_path: Path, cobolt: FakeCobolt, stuck_on: bool
) -> None:
    """Ctrl-C pressed twice in quick succession, mid-capture: the second one never cuts the switch-off short.
    With a laser that acknowledges l0 and keeps emitting, the alarm is printed and the exit code is 3."""
    out = tmp_path / "run.h5"
    process = capture_mid_rows(cobolt, out)
    cobolt.stuck_on = stuck_on
    sent = len(cobolt.replies)
    process.send_signal(signal.SIGINT)
    time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    stderr_text = stderr.decode()

    assert "Traceback" not in stderr_text and "error: interrupted" not in stderr_text
    read_backs = [reply for command, reply in cobolt.replies[sent:] if command == "l?"]
    assert "l0" in cobolt.received[sent:] and read_backs, "the switch-off was not read back"
    with CaptureReader(out) as reader:
        assert reader.status == "aborted" and 16 <= reader.n_frames < N_FRAMES
        laser_events = [event["kind"] for event in reader.events() if event["kind"].startswith("laser_")]
    if stuck_on:
        assert process.returncode == 3, stderr_text
        assert "speckle-lab: ALARM:" in stderr_text and "key switch" in stderr_text
        assert read_backs[-1] == ["1"] and cobolt.emission
        assert laser_events[-1] == "laser_off_failed"
    else:
        assert process.returncode == 128 + signal.SIGINT, stderr_text
        assert "ALARM" not in stderr_text
        assert read_backs[-1] == ["0"] and not cobolt.emission
        assert laser_events[-1] == "laser_off"
    assert f"speckle-lab capture --resume {out}" in stderr_text


def test_stop_during_the_start_darks_never_switches_the_laser_on(tmp_path: Path, cobolt: FakeCobolt) -> None:
    control = CaptureControl()

    def on_progress(progress) -> None:
        if progress.phase == "dark":
            control.abort("stopped during the darks")

    with bench_with_cobolt(cobolt.port_name) as bench:
        plan = plan_from_dict(PLAN, "test")
        result = make_run(plan, bench, tmp_path / "darks.h5", control=control, on_progress=on_progress).run()
    assert result.status == "aborted" and result.rows_committed == 0
    assert "l1" not in laser_commands(cobolt)
    with CaptureReader(tmp_path / "darks.h5") as reader:
        assert reader.n_dark == plan.dark_frames  # the darks in flight were kept


def test_a_failed_switch_off_is_an_alarm_in_the_result_and_the_file(tmp_path: Path, cobolt: FakeCobolt) -> None:
    control = CaptureControl()
    with bench_with_cobolt(cobolt.port_name) as bench:

        def on_progress(progress) -> None:
            if progress.phase == "frames" and progress.rows_done >= 32 and not control.aborted:
                control.abort("operator stop")
                cobolt.quirk("l0", reply=["Error: laser busy"], times=1000)  # the laser refuses to switch off

        plan = plan_from_dict(PLAN, "test")
        result = make_run(plan, bench, tmp_path / "stuck.h5", control=control, on_progress=on_progress).run()
        cobolt.quirk("l0", reply=["OK"], times=0)
    assert result.status == "aborted"
    assert "ALARM" in result.laser_alarm and "key switch" in result.laser_alarm
    assert not result.ok and "ALARM" in result.message
    assert cobolt.emission  # the double really kept emitting: the alarm told the truth
    with CaptureReader(tmp_path / "stuck.h5") as reader:
        laser_events = [event["kind"] for event in reader.events() if event["kind"].startswith("laser_")]
    assert laser_events[-1] == "laser_off_failed"  # the stop's switch-off: no laser_off after it
    assert laser_events[:4] == ["laser_off", "laser_off", "laser_arming", "laser_on"]  # connect, darks, arming


def test_devices_says_the_laser_was_emitting_and_switches_it_off(
    cobolt: FakeCobolt, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from speckle_lab.lab.cli import main
    from speckle_lab.lab.commands import devices

    assert cobolt.emission  # left on, as a process killed with -9 leaves it
    monkeypatch.setattr(devices, "open_bench", lambda path=None: bench_with_cobolt(cobolt.port_name))
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("WARNING: the laser was EMITTING")
    assert not cobolt.emission
    assert main(["devices"]) == 0  # now it opens dark: no warning
    assert "WARNING" not in capsys.readouterr().out
