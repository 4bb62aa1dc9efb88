"""The exit codes of `speckle-lab`: the one table every command, the panel and the signal handling import.

A script that runs the bench overnight reads these, so each number means one thing everywhere:

| code    | meaning                                                                                          |
|---------|--------------------------------------------------------------------------------------------------|
| 0       | done (a capture: complete; a queue: every entry complete)                                        |
| 1       | a failure that is not the input's fault: a device failed or refused, the system refused (a full  |
|         | disk, a folder that cannot be written), a capture that stopped `failed`, a queue entry that      |
|         | failed, training that turned non-finite                                                          |
| 2       | bad input: an option, a bench or plan file, a target source, a data file, a run folder, a        |
|         | checkpoint; nothing was written (argparse uses 2 for its usage errors too)                       |
| 3       | ALARM: the laser could not be confirmed off and may still be emitting: the operator must act     |
| 128 + N | stopped by signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP, 131 SIGQUIT), also when a second       |
|         | signal stopped it at once; a capture file is left `aborted` and resumable                        |

An ALARM outranks everything else (a signal, a failure): a laser that may be emitting is what the operator
must hear about first. A bug (an exception no layer owns) is a traceback and exit 1, as Python exits.

No layer below `lab/` uses these numbers: drivers, acquisition and model raise their own error types, and
`lab/cli.py`'s `ERROR_TABLE` maps each type to one of the codes here. Import-light on purpose (the signal
handlers and the panel import it).
"""

from __future__ import annotations

import signal

EXIT_OK = 0
EXIT_FAILED = 1  # a device, the system or a run failed; not the input's fault
EXIT_USAGE = 2  # bad input: an option or a file; nothing written
EXIT_ALARM = 3  # the laser could not be confirmed off: it may still be emitting
SIGNAL_EXIT_BASE = 128  # the shell's convention: a command ended by signal N exits 128 + N

#: The signals that end a process by default and that a process can catch: each stops a capture, the queue,
#: training or the panel the clean way (laser off, file closed and resumable) and exits 128 + N.
TERMINATION_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name)
)


def signal_exit_code(signum: int) -> int:
    """What a shell shows for a command ended by `signum` (130 for Ctrl-C, 143 for SIGTERM)."""
    return SIGNAL_EXIT_BASE + int(signum)


EXIT_INTERRUPTED = signal_exit_code(signal.SIGINT)  # 130: Ctrl-C (KeyboardInterrupt outside a capture)
