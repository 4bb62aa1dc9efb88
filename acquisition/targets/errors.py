"""The one error a target source raises when its spec cannot be honoured."""

from __future__ import annotations


class TargetSpecError(ValueError):
    """A target spec that cannot be opened: unknown name, missing path, unreadable or malformed file.

    The message is one line that names the spec and says what was expected, so the command line can show
    it as is."""

    def __init__(self, spec: str, problem: str) -> None:
        super().__init__(f"target source {spec!r}: {problem}")
        self.spec = spec
        self.problem = problem
