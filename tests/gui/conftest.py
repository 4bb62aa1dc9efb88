"""GUI tests: the real window over a small simulated bench, offscreen, with settings in a temporary file."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")
pytest.importorskip("pytestqt")

from gui_helpers import SMALL_BENCH, close_cleanly, write_bench

from speckle_lab.gui.app import application, open_panel, qt_binding_problem
from speckle_lab.gui.main_window import MainWindow
from speckle_lab.gui.settings import Settings


@pytest.fixture(scope="session", autouse=True)
def usable_qt_binding() -> None:
    """Fail each GUI test with the reason, instead of a refcount crash that aborts the whole run."""
    problem = qt_binding_problem()
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def bench_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bench(tmp_path_factory.mktemp("bench") / "small_bench.toml", SMALL_BENCH)


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "settings" / "control-panel.ini"


@pytest.fixture
def open_window(qtbot, settings_path: Path) -> Iterator[Callable[..., MainWindow]]:
    """Open windows (bench file, settings file); each is closed cleanly at teardown if the test did not."""
    windows: list[MainWindow] = []

    def make(bench: Path | None, settings: Path | None = None, wait_for_bench: bool = True) -> MainWindow:
        application()
        window = open_panel(bench, Settings.at(settings or settings_path))  # as `speckle-lab gui` opens it
        windows.append(window)
        if wait_for_bench:
            qtbot.waitUntil(lambda: window.controller.bench_info is not None and window.is_ready, timeout=20_000)
        return window

    yield make
    for window in windows:  # not qtbot.addWidget: pytest-qt would delete the window before its shutdown ends
        close_cleanly(qtbot, window)
        window.deleteLater()
