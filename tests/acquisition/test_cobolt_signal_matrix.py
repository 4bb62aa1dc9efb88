"""The laser's state is known at every moment, and nothing ends in silence: the whole table.

Every cell is a real `speckle-lab capture` (`lab.cli.main`, in this process, with its signal handlers) on the
small simulated bench whose laser is a Cobolt on a pty. The double acts at an exact point of the Cobolt
protocol (one lifecycle transition): it sends the program none, one (SIGTERM) or two (SIGINT, SIGINT: Ctrl-C
twice, the second once the first was handled) signals, then behaves normally, stays stuck on (acknowledges
`l0`, keeps emitting), answers line noise, or vanishes (the port is gone). Each cell asserts the exit code, the
last command the laser received, what its last emission read-back said, the file's status and events, and the
alarm line. Set SPECKLE_SIGNAL_MATRIX=FILE to append each measured cell to FILE as JSON (the report's table).

Garbage is never read as a value: a run that fails on line noise fails at the first reply that is noise, and its
error names that command and the reply. (Until the drivers parsed replies strictly, the 'emitting / garbage'
cells read the `hrs?` noise, "~#3$%&k", as 3 h and failed one round trip later, at the next `l?`.)
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from capture_helpers import small_config
from cobolt_capture import TINY_BENCH, bench_with_cobolt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "drivers"))
from fake_cobolt import NOISE, FakeCobolt

from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.lab import capture_service
from speckle_lab.lab.cli import main
from speckle_lab.lab.commands import capture as capture_command

N_FRAMES = 48
CAPTURE = [
    "capture", "--targets", "blobs", "--n", str(N_FRAMES), "--target-size", "16", "--block", "16",
    "--display", "threshold", "--quiet",
]  # fmt: skip

#: Where each transition is caught in the Cobolt protocol (command, nth, counted after).
TRANSITIONS = {
    "connect": ("l0", 1, None),  # the driver's switch-off when the laser is opened (the double starts emitting)
    "arming": ("ilk?", 2, None),  # the last round trip before `l1`: the driver's interlock check
    "emitting": ("hrs?", 2, "l1"),  # the laser check after the second block
    "switching_off": ("l0", 1, "l1"),  # the switch-off after the last row
}
BEHAVIOURS = ("normal", "stuck_on", "garbage", "vanish")
SIGNALS = {"none": (), "one": (signal.SIGTERM,), "two": (signal.SIGINT, signal.SIGINT)}


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    last_command: str
    read_back: str  # what the last `l?` after the transition answered: off, on, garbage, none (port gone)
    status: str | None  # the file's status; None: no file (the run never started)
    alarm: bool


def expected(signals: str, transition: str, behaviour: str) -> Outcome:
    """What must happen, cell by cell (the reasons are the lifecycle's rules)."""
    stop_code = {"none": None, "one": 128 + signal.SIGTERM, "two": 128 + signal.SIGINT}[signals]
    if behaviour == "normal":
        return Outcome(stop_code or 0, "l0", "off", "aborted" if stop_code else "complete", False)
    if transition == "connect":  # the laser reported emitting; its switch-off is not confirmed: alarm, no file
        return Outcome(3, "l0", {"stuck_on": "on", "garbage": "garbage", "vanish": "none"}[behaviour], None, True)
    if transition == "arming":
        if stop_code:  # the on command is never sent: the laser stays as read back before the darks, off
            return Outcome(stop_code, "l0" if behaviour != "vanish" else "ilk?", _read_back(behaviour, "off"),
                           "aborted", False)  # fmt: skip
        if behaviour == "stuck_on":  # it switched on, then will not go off after the last row
            return Outcome(3, "l0", "on", "failed", True)
        # the arming fails before the on command: known off (read back off before, no on command since)
        return Outcome(1, "l0" if behaviour == "garbage" else "ilk?", _read_back(behaviour, "off"), "failed", False)
    # emitting or switching off, with the light on: a switch-off that is not confirmed is the alarm
    last = "hrs?" if (behaviour, transition) == ("vanish", "emitting") else "l0"
    status = "aborted" if (stop_code and behaviour == "stuck_on" and transition == "emitting") else "failed"
    return Outcome(3, last, _read_back(behaviour, "on"), status, True)


def _read_back(behaviour: str, stuck_answer: str) -> str:
    return {"stuck_on": stuck_answer, "garbage": "garbage", "vanish": "none"}[behaviour]


@pytest.fixture
def cobolt(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCobolt]:
    config = small_config(**TINY_BENCH)
    with FakeCobolt() as device:
        monkeypatch.setattr(
            capture_service, "open_bench", lambda path=None: bench_with_cobolt(device.port_name, config)
        )
        monkeypatch.setattr(
            capture_service, "build_bench", lambda stored, source="": bench_with_cobolt(device.port_name, stored)
        )
        yield device


def _wait_handled(count: int) -> None:
    """Until the program's handler has seen `count` signals (it runs on the main thread, which is waiting for
    this very answer), so a second signal is a second one, not merged with the first."""
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        stopped = capture_command._last_signal
        if stopped is not None and (stopped.signum is not None) + len(stopped.later) >= count:
            return
        time.sleep(0.001)
    raise AssertionError(f"the program did not handle signal {count}")


def act_at(cobolt: FakeCobolt, transition: str, signals: str, behaviour: str) -> list[int]:
    """Arm the double; returns a list that will hold how many commands it had received when it acted."""
    command, nth, after = TRANSITIONS[transition]
    main_thread = threading.main_thread().ident
    fired: list[int] = []

    def action(received: str) -> None:
        fired.append(len(cobolt.received) - 1)
        for count, signum in enumerate(SIGNALS[signals], 1):
            signal.pthread_kill(main_thread, signum)
            _wait_handled(count)
        if behaviour == "stuck_on":
            cobolt.stuck_on = True
        elif behaviour == "garbage":
            cobolt.garbage = True
        elif behaviour == "vanish":
            cobolt.vanish_now()

    cobolt.on_command(command, action, nth=nth, after=after)
    return fired


def last_read_back(cobolt: FakeCobolt, since: int) -> str:
    answers = [reply for command, reply in cobolt.replies[since:] if command == "l?"]
    if not answers or answers[-1] is None:
        return "none"
    return {"0": "off", "1": "on", NOISE: "garbage"}.get(answers[-1][0], f"? {answers[-1]}")


def file_state(path: Path) -> tuple[str | None, list[dict], int, int]:
    if not path.exists():
        return None, [], 0, 0
    with CaptureReader(path) as reader:
        return reader.status, reader.events(), reader.n_frames, reader.n_dark


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
@pytest.mark.parametrize("transition", list(TRANSITIONS))
@pytest.mark.parametrize("signals", list(SIGNALS))
def test_cell(
    tmp_path: Path,
    cobolt: FakeCobolt,
    capsys: pytest.CaptureFixture[str],
    signals: str,
    transition: str,
    behaviour: str,
) -> None:
    out = tmp_path / "run.h5"
    fired = act_at(cobolt, transition, signals, behaviour)
    code = main([*CAPTURE, "--out", str(out)])
    stderr = capsys.readouterr().err
    assert fired, "the double never reached the transition"
    status, events, rows, _ = file_state(out)
    kinds = [event["kind"] for event in events]
    measured = Outcome(code, cobolt.received[-1], last_read_back(cobolt, fired[0]), status, "ALARM" in stderr)
    record(signals, transition, behaviour, measured, rows)

    assert measured == expected(signals, transition, behaviour), stderr
    assert "Traceback" not in stderr
    first_act = fired[0]
    if SIGNALS[signals]:  # `l1` is never sent once a stop was asked for
        assert "l1" not in cobolt.received[first_act:]
    if measured.alarm:
        assert "key switch" in stderr
        if status is not None:
            assert "laser_off_failed" in kinds
    if status is not None:
        laser_events = [kind for kind in kinds if kind.startswith("laser_")]
        assert laser_events[0] == "laser_off" and "at connect" in events[kinds.index("laser_off")]["message"]
        assert ("laser_on" in kinds) == ("l1" in cobolt.received)
        if not measured.alarm:
            assert laser_events[-1] == "laser_off" and "laser_off_failed" not in kinds
        if status == "aborted":
            assert "aborted" in kinds and f"speckle-lab capture --resume {out}" in stderr
        if transition in ("connect", "arming") and SIGNALS[signals]:
            assert rows == 0  # stopped before any row
    if len(SIGNALS[signals]) == 2:
        assert "SIGINT again: finishing the stop under way" in stderr
    if behaviour == "garbage" and status == "failed":
        first_garbage = next(command for command, reply in cobolt.replies[first_act:] if reply == [NOISE])
        failure = next(line for line in stderr.splitlines() if line.startswith("failed: capture stopped"))
        assert f"{first_garbage}: expected " in failure and f"got {NOISE!r}" in failure, failure


def record(signals: str, transition: str, behaviour: str, measured: Outcome, rows: int) -> None:
    target = os.environ.get("SPECKLE_SIGNAL_MATRIX")
    if target:
        cell = {"signals": signals, "transition": transition, "behaviour": behaviour, "rows": rows, **asdict(measured)}
        with open(target, "a") as stream:
            stream.write(json.dumps(cell) + "\n")


def test_the_arming_transition_is_the_last_round_trip_before_the_on_command(
    tmp_path: Path, cobolt: FakeCobolt, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the matrix's "arming" cells rely on: the second `ilk?` is the command right before `l1`."""
    assert main([*CAPTURE, "--out", str(tmp_path / "run.h5")]) == 0
    received = cobolt.received
    assert received[received.index("l1") - 1] == "ilk?" and received[: received.index("l1")].count("ilk?") == 2


def test_a_laser_stuck_on_before_the_start_darks_is_an_alarm_before_any_frame(
    tmp_path: Path, cobolt: FakeCobolt, capsys: pytest.CaptureFixture[str]
) -> None:
    """Switched on and stuck after the connect (by hand, by another program): the switch-off before the start
    darks reads it back, and the run stops there, before a single dark frame is recorded with the light on."""

    def switched_on_and_stuck(command: str) -> None:
        cobolt.emission = cobolt.stuck_on = True

    cobolt.on_command("gmlp?", switched_on_and_stuck)  # the last command of the connect
    out = tmp_path / "run.h5"
    assert main([*CAPTURE, "--out", str(out)]) == 3
    stderr = capsys.readouterr().err
    assert "ALARM" in stderr and "before the start darks" in stderr and "key switch" in stderr
    status, events, rows, darks = file_state(out)
    assert status == "failed" and rows == 0 and darks == 0
    assert "l1" not in cobolt.received and cobolt.emission
    assert [event["kind"] for event in events if event["kind"].startswith("laser_")][-2:] == [
        "laser_off_failed",
        "laser_off_failed",  # and again at the end of the run: still on
    ]


@pytest.mark.parametrize("noise", ["persistent", "one line"])
def test_a_garbage_power_read_back_while_emitting_is_an_error_never_a_number(
    tmp_path: Path, cobolt: FakeCobolt, capsys: pytest.CaptureFixture[str], noise: str
) -> None:
    """`pa?`, the measured power read right after the on command, answered with line noise: the arming fails on
    it (the lenient reader recorded "measured 3 W" and went on), the laser is switched off and read back. A laser
    that keeps answering noise cannot be confirmed off: the alarm. One noisy line: off, read back off, exit 1."""
    if noise == "persistent":
        cobolt.on_command("pa?", lambda command: setattr(cobolt, "garbage", True), after="l1")
    else:
        cobolt.on_command("l1", lambda command: cobolt.quirk("pa?", reply=[NOISE]))
    out = tmp_path / "run.h5"
    code = main([*CAPTURE, "--out", str(out)])
    stderr = capsys.readouterr().err
    assert f"pa?: expected a decimal number, got {NOISE!r}" in stderr
    status, events, rows, _ = file_state(out)
    kinds = [event["kind"] for event in events]
    assert status == "failed" and rows == 0 and "laser_on" not in kinds  # no "measured 3 W" anywhere
    if noise == "persistent":
        assert code == 3 and "ALARM" in stderr and "key switch" in stderr and kinds[-1] == "laser_off_failed"
    else:
        assert code == 1 and "ALARM" not in stderr and not cobolt.emission
        assert "laser_off_failed" not in kinds
        assert any(e["kind"] == "laser_off" and "arming failed (pa?" in e["message"] for e in events)


def test_a_stop_during_the_arming_of_a_resume_never_sends_the_on_command(
    tmp_path: Path, cobolt: FakeCobolt, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run.h5"
    cobolt.on_command("hrs?", lambda command: signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM),
                      nth=2, after="l1")  # fmt: skip
    assert main([*CAPTURE, "--out", str(out)]) == 128 + signal.SIGTERM
    capsys.readouterr()
    sent = len(cobolt.received)
    cobolt.on_command("ilk?", lambda command: signal.pthread_kill(threading.main_thread().ident, signal.SIGINT),
                      nth=2, after="gmlp?")  # fmt: skip
    assert main(["capture", "--resume", str(out), "--quiet"]) == 128 + signal.SIGINT
    assert "l1" not in cobolt.received[sent:] and not cobolt.emission
    assert cobolt.received[-1] == "l0"
    status, events, rows, _ = file_state(out)
    assert status == "aborted" and 0 < rows < N_FRAMES
    resumed = [event for event in events if event["kind"] == "resumed"][-1]
    after = [event["message"] for event in events if event["time_s"] >= resumed["time_s"]]
    assert any("arming stopped before the on command" in message for message in after)


def test_a_second_ctrl_c_while_waiting_for_the_camera_stops_at_once_and_still_reads_the_laser_back(
    tmp_path: Path, cobolt: FakeCobolt, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one place a second signal interrupts (a block being captured): the block in flight is dropped, and
    the switch-off that follows is read back whatever comes next (here: a laser stuck on, so the alarm)."""
    from speckle_lab.acquisition.frame_capture import SequenceCapture

    original = SequenceCapture.capture
    calls: list[int] = []

    def capture_then_ctrl_c_twice(self, levels):  # the third block of frames: the light is on
        calls.append(len(levels))
        if len(calls) == 3 + 1:  # the start darks were the first call
            cobolt.stuck_on = True
            main_thread = threading.main_thread().ident
            signal.pthread_kill(main_thread, signal.SIGINT)  # stop after this block ...
            signal.pthread_kill(main_thread, signal.SIGINT)  # ... no: now (StopSignal, raised here)
        return original(self, levels)

    monkeypatch.setattr(SequenceCapture, "capture", capture_then_ctrl_c_twice)
    out = tmp_path / "run.h5"
    assert main([*CAPTURE, "--out", str(out)]) == 3
    stderr = capsys.readouterr().err
    assert "stopped at once by SIGINT" in stderr and "speckle-lab: ALARM:" in stderr
    status, events, rows, _ = file_state(out)
    assert status == "aborted" and rows == 32  # the block in flight was dropped
    kinds = [event["kind"] for event in events]
    assert kinds[-1] == "laser_off_failed" and "aborted" in kinds
    assert cobolt.received[-3:] == ["l0", "l?", "l0"]  # switched off, read back (on), then the close's own l0


def test_a_queue_stops_at_a_laser_alarm(
    tmp_path: Path, cobolt: FakeCobolt, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`capture --queue`: the first entry ends with a laser that will not go off; the second never starts."""
    from speckle_lab.lab import capture_queue

    config = small_config(**TINY_BENCH)
    monkeypatch.setattr(
        capture_queue, "build_bench", lambda stored, source="": bench_with_cobolt(cobolt.port_name, config)
    )
    queue = tmp_path / "night.toml"
    queue.write_text(
        '[defaults]\ntargets = "blobs"\nn_frames = 32\ntarget_rows = 16\ntarget_cols = 16\nblock_frames = 16\n'
        'display = "threshold"\n\n[[run]]\nout = "first.h5"\n\n[[run]]\nout = "second.h5"\n'
    )
    cobolt.on_command("l0", lambda command: setattr(cobolt, "stuck_on", True), after="l1")
    assert main(["capture", "--queue", str(queue), "--quiet"]) == 3
    captured = capsys.readouterr()
    assert "speckle-lab: ALARM:" in captured.err and "key switch" in captured.err
    assert (tmp_path / "first.h5").exists() and not (tmp_path / "second.h5").exists()
    assert "l1" not in cobolt.received[cobolt.received.index("l1") + 1 :]  # never armed again
