"""`speckle-lab gui`: its arguments, and the failures it reports in one line before any window opens."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from speckle_lab.gui import app
from speckle_lab.lab.commands import gui as gui_command
from speckle_lab.lab.config_errors import BenchConfigError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="speckle-lab")
    gui_command.add_parser(parser.add_subparsers())
    return parser.parse_args(["gui", *argv])


def test_the_command_takes_a_bench_file() -> None:
    assert parse().bench is None
    args = parse("--bench", "bench.toml")
    assert args.bench == Path("bench.toml") and args.run is gui_command.run


def test_a_bad_bench_file_fails_before_the_window(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[laser]\nmax_power_w = -1\n")
    with pytest.raises(BenchConfigError, match=r"laser\.max_power_w"):
        gui_command.run(parse("--bench", str(bad)))


def test_no_display_is_one_line_not_an_abort(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert gui_command.run(parse()) == gui_command.EXIT_NO_GUI
    assert "no display" in capsys.readouterr().err


def test_a_broken_qt_binding_is_named(monkeypatch) -> None:
    import PySide6

    monkeypatch.setattr(PySide6, "__version__", "6.12.0")
    monkeypatch.setattr(sys, "version_info", (3, 11, 7))
    assert "PySide6-Essentials>=6.6,<6.12" in app.qt_binding_problem()
    monkeypatch.setattr(sys, "version_info", (3, 12, 0))
    assert app.qt_binding_problem() is None
