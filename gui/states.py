"""What the state pills say: the laser's and the capture's states as text and a pill kind, one table each for the
status bar and the pages alike."""

from __future__ import annotations

from speckle_lab.lab.bench_session import LaserState

#: The capture's states (the engine's, not the buttons'): text and pill kind, as the status bar and the
#: Acquisition page's progress card show them.
CAPTURE_STATES = {
    "idle": ("idle", "idle"),
    "starting": ("starting", "info"),
    "running": ("running", "info"),
    "pausing": ("pausing… (after this block)", "warn"),
    "paused": ("paused", "warn"),
    "resuming": ("resuming…", "info"),
    "stopping": ("stopping…", "warn"),
    "aborted": ("aborted (file valid, resumable)", "warn"),
    "failed": ("failed (file valid, resumable)", "error"),
}


def capture_pill(state: str) -> tuple[str, str]:
    """Text and kind of a capture state's pill."""
    return CAPTURE_STATES.get(state, (state, "info"))


def laser_pill(state: LaserState | None) -> tuple[str, str]:
    """Text and kind of the laser's state pill (the status bar and the Devices page's laser card)."""
    if state is None:
        return "Laser —", "idle"
    if state.fault:
        return f"Laser FAULT: {state.fault}", "error"
    if not state.interlock_closed:
        return "Laser INTERLOCK OPEN", "error"
    if state.emission:
        owner = " · capture" if state.by_capture else ""
        return f"Laser ON {state.setpoint_w * 1e3:.1f} mW{owner}", "active"
    return "Laser OFF", "idle"
