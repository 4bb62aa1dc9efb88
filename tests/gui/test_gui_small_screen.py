"""Every page works on a 1280x800 screen, the log panel open: the run buttons in view without scrolling, the
evaluation table's metrics without a sideways scroll."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

METRICS = {"pcc": 0.53, "ssim": 0.09, "cs": 0.55, "dice": 0.35}


def _fully_in_view(widget: QWidget) -> bool:
    """Shown, and not cut by a scroll area or the window's edge."""
    return widget.isVisible() and widget.visibleRegion().boundingRect() == widget.rect()


def test_every_page_works_at_1280x800(qtbot, open_window, bench_file: Path) -> None:
    window = open_window(bench_file)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280 and window.height() == 800, timeout=2000)
    assert window.log_dock.isVisible()
    checks = {
        "Acquisition": lambda: [window.acquisition.plan_card.start, window.acquisition.plan_card.abort],
        "Training": lambda: [window.training.settings_card.start, window.training.settings_card.stop],
        "Reconstruct": lambda: [window.reconstruct.load, window.reconstruct.send_drawn, window.reconstruct.play],
        "Devices": lambda: [window.devices.laser.emission, window.devices.camera.live_button],
    }
    for page, widgets in checks.items():
        window.show_page(page)
        qtbot.wait(50)
        for widget in widgets():
            assert _fully_in_view(widget), f"{page}: {widget.text()} is not in view"

    window.show_page("Training")
    card = window.training.evaluation
    result = {"run_dir": "/data/runs/run-20261207-013916", "epoch": 3, "n_frames": 1200, "subset": "all frames"}
    for files in (["/data/capture-20261207-013910.h5"], ["/data/faces-holdout.h5", "/data/faces-more.h5"]):
        card.add_result(
            {**result, "data_paths": files, "metrics": {k: {"mean": v, "std": 0.1} for k, v in METRICS.items()}}
        )
    qtbot.wait(50)
    table = card.table
    assert table.horizontalScrollBar().maximum() == 0  # no sideways scroll
    right = table.viewport().width()
    for column in range(table.columnCount()):  # every column, SSIM, CS and Dice included, inside the table
        header = table.horizontalHeaderItem(column).text()
        assert table.columnViewportPosition(column) + table.columnWidth(column) <= right, header
        assert table.columnWidth(column) >= table.horizontalHeader().sectionSizeHint(column) or column < 2, header
