"""Late signals wait for the report: `defer_signals` notes a termination signal instead of acting on it, a
`stop_on_signals` nested inside hands back to it (no gap between the two), and a signal noted before a run
began stops that run at once instead of being lost."""

from __future__ import annotations

import signal

import pytest

from speckle_lab.lab.cli import entry
from speckle_lab.lab.exit_codes import TERMINATION_SIGNALS
from speckle_lab.lab.signals import defer_signals, stop_on_signals


def test_a_late_signal_is_noted_not_raised_and_the_handlers_come_back(capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGINT)
    with defer_signals() as deferred:
        signal.raise_signal(signal.SIGINT)  # would be a KeyboardInterrupt without the deferral
        signal.raise_signal(signal.SIGTERM)  # would end the process
        assert (deferred.signum, deferred.later) == (signal.SIGINT, [signal.SIGTERM])
    assert signal.getsignal(signal.SIGINT) is before
    assert "finishing the report first" in capsys.readouterr().err


def test_a_run_inside_hands_back_to_the_deferral_with_no_gap() -> None:
    stops: list[str] = []
    with defer_signals() as deferred:
        deferral = signal.getsignal(signal.SIGINT)
        with stop_on_signals(stops.append) as stopped:
            signal.raise_signal(signal.SIGINT)
        assert stopped.signum == signal.SIGINT and len(stops) == 1
        assert signal.getsignal(signal.SIGINT) is deferral  # the report is printed under the deferral
        signal.raise_signal(signal.SIGINT)  # the second Ctrl-C of two, after the run: noted
    assert deferred.signum == signal.SIGINT and len(stops) == 1


def test_a_signal_noted_before_the_run_stops_it_at_once() -> None:
    stops: list[str] = []
    with defer_signals() as deferred:
        signal.raise_signal(signal.SIGTERM)  # while the plan was being read, before the capture began
        with stop_on_signals(stops.append, noted=deferred) as stopped:
            assert stopped.signum == signal.SIGTERM and stopped.exit_code == 143
            assert stops == ["stopped by SIGTERM"]  # the run is told to stop before its first step


def test_restore_false_keeps_deferring_until_the_process_ends() -> None:
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        with defer_signals(restore=False):
            deferral = signal.getsignal(signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is deferral  # the console script exits with the command's code
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def test_the_console_script_ignores_termination_signals_through_the_teardown() -> None:
    """Python's teardown restores the default handlers: a signal landing there would kill the process (exit
    -2, -15) instead of letting it exit with the command's code. `entry` ignores them once the command ended."""
    before = {signum: signal.getsignal(signum) for signum in TERMINATION_SIGNALS}
    try:
        with pytest.raises(SystemExit) as exit_:
            entry(["--version"])
        assert exit_.value.code == 0
        assert all(signal.getsignal(signum) == signal.SIG_IGN for signum in TERMINATION_SIGNALS)
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
