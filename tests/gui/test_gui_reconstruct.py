"""The Reconstruct page as an operator meets it: Load that fails, target numbers out of range, a drawn cross,
and the run just trained proposed for Load (in test_gui_evaluation, which trains one)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.lab.capture_service import run_plan
from speckle_lab.lab.reconstruction import TARGET_ROWS
from speckle_lab.model.config import TrainConfig
from speckle_lab.model.registry import entry, kind_names

PLAN = {"targets": "digits", "target_rows": 16, "target_cols": 16, "display": "threshold", "n_frames": 96}
TINY = {"epochs": 1, "batch_size": 16, "device": "cpu", "patience_epochs": None, "model": {"depth": 1, "base_width": 4}}


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory, bench_file: Path) -> Path:
    data = tmp_path_factory.mktemp("tiny") / "digits.h5"
    assert run_plan(plan_from_dict(PLAN), data, bench_file).ok
    return data


def _train(data: Path, kind: str) -> Path:
    """A one-epoch net of `kind` on `data` (what it reconstructs does not matter here)."""
    from speckle_lab.model.trainer import train

    run = data.parent / f"run-{kind}"
    if not (run / "best.pt").exists():
        config = TrainConfig.model_validate({**TINY, "model": {**TINY["model"], "kind": kind}})
        train(config, [data], run, show_progress=False)
    return run


@pytest.fixture(scope="module")
def tiny_run(captured: Path) -> tuple[Path, Path]:
    return _train(captured, "unet"), captured


def _load(qtbot, page, run: Path, data: Path | None) -> None:
    page.run_dir.setText(str(run))
    page.data_file.setText(str(data) if data else "")
    page.load.click()
    qtbot.waitUntil(lambda: page.loaded is not None or "✗" in page.run_status.text(), timeout=60_000)


def _drag(widget, points: list[tuple[float, float]]) -> None:
    """A left-button drag through `points` (x, y in pixels), with mouse events as far apart as a quick hand's."""
    left, none, plain = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    at = [QPointF(x, y) for x, y in points]
    QApplication.sendEvent(widget, QMouseEvent(QMouseEvent.Type.MouseButtonPress, at[0], at[0], left, left, plain))
    for point in at[1:]:
        QApplication.sendEvent(widget, QMouseEvent(QMouseEvent.Type.MouseMove, point, point, none, left, plain))
    QApplication.sendEvent(widget, QMouseEvent(QMouseEvent.Type.MouseButtonRelease, at[-1], at[-1], left, none, plain))


def test_the_reconstruct_page_refuses_what_it_cannot_do_and_draws_a_real_stroke(
    qtbot, open_window, bench_file: Path, tiny_run: tuple[Path, Path], tmp_path: Path
) -> None:
    run, data = tiny_run
    window = open_window(bench_file)
    window.show_page("Reconstruct")
    page = window.reconstruct
    _load(qtbot, page, run, data)
    assert page.loaded is not None and page.next.isEnabled(), page.run_status.text()
    assert page.loaded["kind"] == "unet" and "model unet, epoch 1" in page.run_status.text()  # the kind it loaded

    # A Load that fails: the old net is out of use at once, and the status says why (not "Loading …" for good).
    _load(qtbot, page, tmp_path / "no-such-run", None)
    assert page.loaded is None and page.worker.reconstructor is None
    assert "✗" in page.run_status.text() and "no-such-run" in page.run_status.text()
    assert "no net loaded" in page.run_status.text() and not page.next.isEnabled()
    _load(qtbot, page, run, data)
    assert page.loaded is not None

    # Target numbers: the range shown is the range accepted; outside it, one line beside the field.
    assert page.index.range_label.text() == f"allowed 0 – {TARGET_ROWS - 1:,}".replace(",", " ")
    requests = page._request
    page.index.set_text(f"{TARGET_ROWS}")
    page.index.submit()
    assert page.index.refused_text.startswith("Refused, nothing sent: ") and "\n" not in page.index.refused_text
    assert page._request == requests  # nothing went to the worker
    page.index.set_text(f"{TARGET_ROWS - 1}")
    page.index.submit()
    qtbot.waitUntil(lambda: page.results >= 1, timeout=20_000)
    assert page.shown.value.text() == f"target #{TARGET_ROWS - 1} of {page.source.currentText()}"

    # A cross drawn in two quick strokes (five mouse positions each) reaches the DMD as a cross.
    canvas = page.canvas
    side = canvas.width()
    _drag(canvas, [(side * t, side * t) for t in np.linspace(0.1, 0.9, 5)])
    _drag(canvas, [(side * t, side * (1 - t)) for t in np.linspace(0.1, 0.9, 5)])
    drawn = canvas.image > 0
    rows = drawn.shape[0]
    for r in range(2, rows - 2):  # both strokes unbroken, at least two pixels wide
        assert drawn[r, r] and drawn[r, rows - 1 - r], r
        assert drawn[r].sum() >= 4 or abs(r - rows / 2) < 2, r
    assert not drawn[0, rows // 2] and not drawn[rows // 2, 0]  # between the arms stays dark
    before = page.results
    page.send_drawn.click()
    qtbot.waitUntil(lambda: page.results > before, timeout=20_000)
    shown = page.last_result.target > 0.5  # what the DMD showed, as the training plan placed it
    assert page.shown.value.text() == "drawn target"
    assert np.array_equal(shown, drawn)  # 16x16 targets, thresholded: the cross itself


@pytest.mark.parametrize("kind", kind_names())
def test_the_reconstruct_page_loads_every_model_kind(
    qtbot, open_window, bench_file: Path, captured: Path, kind: str
) -> None:
    """Each kind of the registry (the U-Net, the physics-first net) loads, says which it is, and reconstructs a
    target of the training plan's shape."""
    run = _train(captured, kind)
    window = open_window(bench_file)
    page = window.reconstruct
    _load(qtbot, page, run, captured)
    assert page.loaded is not None and page.loaded["kind"] == kind, page.run_status.text()
    assert f"model {kind}, epoch 1" in page.run_status.text() and entry(kind).summary in page.run_status.toolTip()
    page.next.click()
    qtbot.waitUntil(lambda: page.results >= 1, timeout=20_000)
    result = page.last_result
    assert result.output.shape == result.target.shape == (16, 16) and np.isfinite(result.output).all()


def test_the_worker_keeps_qobject_thread(qapp: QApplication) -> None:
    """The worker's own QThread is kept apart from QObject.thread() (an attribute named `thread` hid the method,
    which then raised "'QThread' object is not callable"; mypy found it): asked, the worker names its thread."""
    from speckle_lab.gui.reconstruct_worker import ReconstructWorker

    worker = ReconstructWorker()
    assert worker.thread().objectName() == "reconstruct"
