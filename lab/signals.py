"""Every catchable termination signal stops a capture the same way: emission off, file marked aborted and
resumable, a non-zero exit (128 + the signal number, as a shell reports a killed command).

Ctrl-C is not the only way a run is told to stop: `kill` and systemd send SIGTERM, a closed terminal or a
dropped ssh session SIGHUP, Ctrl-\\ SIGQUIT, a batch scheduler SIGTERM (then SIGKILL after a grace period).
The first signal asks the capture loop to stop after its current block (the block in flight is committed,
the laser switched off, the file closed); a second signal stops at once (raises `StopSignal`, which the
scheduler handles like Ctrl-C), but only where the run merely waits for its devices (a block being captured),
and only once. A second signal that comes while the laser is being armed, switched off and read back, or
while the file is being written and closed, is noted and the stop under way runs to its end: pressing Ctrl-C
twice never skips the read-back, never leaves the file `running`, never hides an alarm. Once the capture has
ended, `defer_signals` holds late signals until its result (and any ALARM) is printed and the exit code chosen:
a Ctrl-C pressed twice whose second press lands after the capture must not cut the report short. What cannot
be caught (SIGKILL, a power cut) is covered in docs/bench.md.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from speckle_lab.lab.exit_codes import TERMINATION_SIGNALS, signal_exit_code

#: What `signal.signal` returns and takes back: a Python handler, SIG_DFL / SIG_IGN, or None (not set from Python).
PreviousHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class StopSignal(KeyboardInterrupt):
    """A second termination signal: stop now. A KeyboardInterrupt, so every Ctrl-C path handles it too."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped at once by {signal_name(signum)}")
        self.signum = signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_code(signum: int) -> int:
    """What a shell shows for a command ended by `signum` (130 for Ctrl-C, 143 for SIGTERM)."""
    return signal_exit_code(signum)


def stop_reason(signum: int) -> str:
    if signum == signal.SIGINT:
        return "interrupted by Ctrl-C (SIGINT)"
    return f"stopped by {signal_name(signum)}"


class SignalStop:
    """Installed by `stop_on_signals`: which signal arrived first (None while none did), and the later ones."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.later: list[int] = []  # every signal after the first, in order
        self.raised = False  # whether one of them was raised as `StopSignal`

    @property
    def received(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int | None:
        return None if self.signum is None else exit_code(self.signum)


def _say(message: str) -> None:
    """A note on stderr; a hung-up terminal (SIGHUP) makes the write fail, which must not stop the stop."""
    with contextlib.suppress(OSError, ValueError):
        print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def stop_on_signals(
    request_stop: Callable[[str], None],
    interruptible: Callable[[], bool] | None = None,
    noted: SignalStop | None = None,
) -> Iterator[SignalStop]:
    """While inside: the first termination signal calls `request_stop(reason)` (e.g. `CaptureControl.abort`);
    a second raises `StopSignal`, once, and only while `interruptible()` is true (default: always), e.g.
    `CaptureControl.interruptible`; otherwise it is noted and the stop under way goes on. The previous
    handlers are restored on exit. Main thread only (Python delivers signals there); elsewhere nothing is
    installed and the caller's own handling applies. `noted`: an enclosing `defer_signals`'s state; a signal
    it noted before this was installed is the first signal here (the run stops at once, never starts)."""
    state = SignalStop()

    def handler(signum: int, frame: object) -> None:
        if state.signum is not None:
            state.later.append(signum)
            if state.raised or (interruptible is not None and not interruptible()):
                _say(f"{signal_name(signum)} again: finishing the stop under way (the laser off and read back first)")
                return
            state.raised = True
            raise StopSignal(signum)
        state.signum = signum
        again = "Ctrl-C" if signum == signal.SIGINT else signal_name(signum)
        _say(f"\n{stop_reason(signum)}: stopping after the current block ({again} again to stop at once)")
        request_stop(stop_reason(signum))

    previous: dict[signal.Signals, PreviousHandler] = {}
    try:
        for signum in TERMINATION_SIGNALS:
            previous[signum] = signal.signal(signum, handler)
    except ValueError:  # not the main thread
        pass
    if noted is not None and noted.received and noted.signum is not None:
        handler(noted.signum, None)  # came while only noted (before the run began): the first signal here
    try:
        yield state
    finally:
        for restored, old in previous.items():
            signal.signal(restored, old)


@contextlib.contextmanager
def defer_signals(restore: bool = True) -> Iterator[SignalStop]:
    """While inside, termination signals are noted, not acted on: for the last steps of a command that has
    already stopped its devices (printing the result and any laser ALARM, choosing the exit code), so a late
    signal can neither hide an alarm nor turn exit 3 into a Python traceback. `stop_on_signals` nested inside
    restores to this handler, so there is no gap between them. `restore=False` leaves the handler installed:
    for a process that ends with the command (the console script), where the gap would otherwise reopen
    between the restore and the exit. Main thread only, like `stop_on_signals`."""
    state = SignalStop()

    def handler(signum: int, frame: object) -> None:
        if state.signum is None:
            state.signum = signum
        else:
            state.later.append(signum)
        _say(f"{signal_name(signum)}: the devices are already stopped; finishing the report first")

    previous: dict[signal.Signals, PreviousHandler] = {}
    try:
        for signum in TERMINATION_SIGNALS:
            previous[signum] = signal.signal(signum, handler)
    except ValueError:  # not the main thread
        pass
    try:
        yield state
    finally:
        if restore:
            for restored, old in previous.items():
                signal.signal(restored, old)


def ignore_termination_signals() -> None:
    """For a process whose command has ended and whose exit code is chosen: termination signals are ignored
    from here to the exit. Python's own teardown puts the default handlers back (a signal then kills the
    process: exit -2 or -15 instead of the command's code, e.g. 3 for an ALARM); an ignored signal is left
    ignored. SIGKILL still ends a teardown that hangs. Main thread only."""
    with contextlib.suppress(ValueError):  # not the main thread
        for signum in TERMINATION_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
