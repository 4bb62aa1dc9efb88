"""The panel on a bench whose laser is the real Cobolt driver on a pty double (tests/drivers/fake_cobolt.py), a
laser that can be made to stay on: every alarm path shows the red LASER ALARM banner (a capture's switch-off, a
bench's connect, LASER OFF, closing), LASER OFF wins over an emission-on request still queued, and LASER OFF
between a failed queue job and the next bench acts on no closed port and raises no false alarm.

The bench is the small simulated one with its laser swapped for a `CoboltLaser` on the double's port
(tests/acquisition/cobolt_capture.py), wherever the panel or its capture queue opens a bench."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_helpers import close_cleanly, fill_plan, write_bench

from speckle_lab.acquisition.datafile.layout import EventKind
from speckle_lab.acquisition.laser_lifecycle import lifecycle_of
from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.lab import bench_session, capture_queue
from speckle_lab.lab.bench_config import load_bench
from speckle_lab.lab.capture_queue import CaptureJob

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "drivers"))
sys.path.insert(0, str(TESTS / "acquisition"))
from cobolt_capture import bench_with_cobolt  # noqa: E402
from fake_cobolt import FakeCobolt  # noqa: E402

PLAN = {"targets": "blobs", "n_frames": 64, "target_rows": 16, "target_cols": 16, "display": "threshold"}


@pytest.fixture
def cobolt(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCobolt]:
    """The Cobolt double; every bench the panel or its capture queue opens gets a `CoboltLaser` on its port.
    Requested before `open_window`, so the window is closed before the double goes."""
    with FakeCobolt() as device:
        port = device.port_name
        monkeypatch.setattr(bench_session, "open_bench", lambda path=None: bench_with_cobolt(port, load_bench(path)))
        monkeypatch.setattr(capture_queue, "build_bench", lambda config, source="": bench_with_cobolt(port, config))
        yield device


def _alarm_shown(window) -> bool:
    return window.banner.isVisible() and window.banner.kind == "error" and "LASER ALARM" in window.banner.text()


def _emission_on(qtbot, window, cobolt: FakeCobolt) -> None:
    window.devices.laser.emission.click()
    qtbot.waitUntil(lambda: cobolt.emission and window.devices.laser.state.emission, timeout=5000)


def test_laser_off_and_closing_with_a_laser_that_stays_on_show_the_alarm(
    qtbot, cobolt: FakeCobolt, open_window, bench_file: Path
) -> None:
    window = open_window(bench_file)
    _emission_on(qtbot, window, cobolt)
    cobolt.stuck_on = True  # acknowledges l0 with OK and keeps emitting
    window.laser_off.click()
    assert _alarm_shown(window) and "still reports emission" in window.banner.text()
    assert "ALARM" in window.laser_pill.text() and window.laser_pill.kind == "error"
    assert "switched off" not in window.banner.text()
    qtbot.wait(600)  # polls read the laser (still ON): the alarm stays
    assert _alarm_shown(window) and "still ON" in window.laser_pill.text()

    window.close()  # closing: the bench's own switch-off fails too; the window stays open on the alarm
    qtbot.waitUntil(lambda: window.closed_cleanly, timeout=30_000)
    assert window.isVisible() and window.alarm_at_close and _alarm_shown(window)
    assert "close the window again" in window.banner.text()
    assert any("LASER ALARM" in line and "the bench was closed" in line for line in window.log_panel.lines)
    window.close()
    assert not window.isVisible()


def test_a_capture_that_ends_in_a_laser_alarm_shows_the_banner(
    qtbot, cobolt: FakeCobolt, open_window, bench_file: Path, tmp_path: Path
) -> None:
    """The capture's last switch-off is not confirmed (the laser stays on): the red banner, not the job report's
    "the laser is off"; reopening the bench finds the laser still on at connect: the banner again; LASER OFF
    then has no open laser to command and says the alarm stands; closing keeps the window open on it."""
    window = open_window(bench_file)
    cobolt.on_command("l0", lambda command: setattr(cobolt, "stuck_on", True), after="l1")  # on, then stuck
    fill_plan(window, tmp_path / "stuck.h5", 64, targets="blobs", reference_every=32)
    window.acquisition.plan_card.start.click()
    qtbot.waitUntil(lambda: not window.controller.capture_busy and bool(window.acquisition.reports), timeout=30_000)
    job = window.acquisition.reports[0]
    assert job.status == "failed" and job.laser_alarm.startswith("ALARM: ") and job.problem is None
    assert "still reports emission" in job.laser_alarm
    reopen = window.acquisition.reports[-1]  # the bench reopened after the capture: its laser is on at connect
    assert reopen.label == "reopen the bench" and "at connect" in reopen.laser_alarm
    assert _alarm_shown(window) and "the laser is off" not in window.banner.text()
    assert "ALARM" in window.laser_pill.text()
    assert sum("LASER ALARM" in line for line in window.log_panel.lines) >= 2  # the capture's and the reopen's

    sent = len(cobolt.received)
    window.laser_off.click()  # no open laser: its closed port is not commanded, and the alarm stands
    assert _alarm_shown(window) and "no command reaches it" in window.banner.text()
    assert len(cobolt.received) == sent

    window.close()
    qtbot.waitUntil(lambda: window.closed_cleanly, timeout=30_000)
    assert window.isVisible() and window.alarm_at_close and _alarm_shown(window)
    window.close()


def test_laser_off_wins_over_an_emission_on_still_queued(
    qtbot, cobolt: FakeCobolt, open_window, bench_file: Path
) -> None:
    """Emission on clicked while the device thread is busy with a slow command, then LASER OFF: the on request,
    when its turn comes, never sends l1 (its stop token was taken at the click, before the LASER OFF)."""
    window = open_window(bench_file)
    laser = window.controller.devices.bench.laser
    transitions = lifecycle_of(laser).record()
    cobolt.quirk("p 0.02000", delay_s=0.3)  # the laser answers the setpoint late: the device thread waits
    window.devices.laser.power_mw.set_text("20")
    window.devices.laser.apply_power.click()
    qtbot.waitUntil(lambda: "p 0.02000" in cobolt.received, timeout=5000)
    sent = len(cobolt.received)
    window.devices.laser.emission.click()  # emission on: queued behind the slow setpoint
    window.laser_off.click()  # waits for the driver's lock (the slow reply), then l0 and the read-back
    assert "Laser switched off" in window.banner.text()

    def on_request_done() -> bool:
        seen.extend(transitions.take())
        return any("arming stopped before the on command" in t.message for t in seen)  # its turn came

    seen: list = []
    qtbot.waitUntil(on_request_done, timeout=10_000)
    seen.extend(transitions.take())
    assert any(t.message.startswith("LASER OFF by the operator") for t in seen)
    assert EventKind.LASER_ON not in [t.kind for t in seen] and "l1" not in cobolt.received[sent:]
    assert cobolt.emission is False and not _alarm_shown(window)
    _emission_on(qtbot, window, cobolt)  # a click after the LASER OFF switches on, as asked
    lifecycle_of(laser).forget(transitions)


def test_laser_off_between_a_failed_queue_job_and_the_next_bench_is_no_false_alarm(
    qtbot, cobolt: FakeCobolt, open_window, bench_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queue entry on a bench of its own fails on the devices (a laser fault); the queue closes that bench (its
    laser read back off) and reopens the panel's. LASER OFF in between acts on no closed port (a switch-off on a
    closed port fails: on real hardware a false alarm) and says that no laser is open and why it is known off;
    once the bench is back, LASER OFF switches it off as usual."""
    window = open_window(bench_file)
    other = write_bench(tmp_path / "other.toml", {**load_bench(bench_file).model_dump(), "bench": {"seed": 7}})
    opened, proceed = threading.Event(), threading.Event()
    build = capture_queue.build_bench

    def held_reopen(config, source=""):  # the reopen of the panel's bench waits until the test lets it go
        if config == load_bench(bench_file):
            opened.set()
            proceed.wait(30)
        return build(config, source)

    monkeypatch.setattr(capture_queue, "build_bench", held_reopen)
    cobolt.on_command("f?", lambda command: cobolt.inject_fault(2), after="l1")  # a fault once it emits
    plan = plan_from_dict({**PLAN, "block_frames": 16})
    window.controller.start_capture([CaptureJob("own bench", tmp_path / "own.h5", plan, bench_path=other)])
    try:
        qtbot.waitUntil(lambda: opened.is_set() and bool(window.acquisition.reports), timeout=30_000)
        report = window.acquisition.reports[-1]
        assert report.status == "failed" and not report.laser_alarm and "fault" in report.message
        assert window.controller.capture.bench is None  # between benches: nothing open
        window.banner.dismiss()  # the failed job's problem (a confirmation never covers an error)
        sent = len(cobolt.received)
        window.laser_off.click()
        assert not _alarm_shown(window) and "ALARM" not in window.laser_pill.text()
        assert "no laser is open" in window.banner.text()
        assert "read back off (after the failed job)" in window.banner.text()
        assert len(cobolt.received) == sent  # the closed port was not commanded
        assert window.laser_pill.text() == "Laser OFF · no laser open"
    finally:
        proceed.set()
    controller = window.controller
    qtbot.waitUntil(lambda: not controller.capture_busy and controller.devices.bench is not None, timeout=30_000)
    assert not any("LASER ALARM" in line for line in window.log_panel.lines)
    sent = len(cobolt.received)
    window.laser_off.click()
    after = cobolt.received[sent:]
    assert "Laser switched off" in window.banner.text() and after[after.index("l0") + 1] == "l?"  # read back
    close_cleanly(qtbot, window)
    assert not window.alarm_at_close
