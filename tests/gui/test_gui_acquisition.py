"""The Acquisition page beyond one plan: the overnight queue, resuming an interrupted file, and refusals."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import fill_plan

from speckle_lab.acquisition.datafile import CaptureReader

QUEUE = """
[defaults]
targets = "digits"
target_rows = 16
target_cols = 16
display = "threshold"
reference_every = 100

[[run]]
out = "night-1.h5"
n_frames = 120

[[run]]
out = "night-2.h5"
targets = "nonsense"
n_frames = 50

[[run]]
out = "night-3.h5"
n_frames = 80
placement = { mode = "random" }
"""


def test_the_overnight_queue_runs_every_plan_and_reports_the_failing_one(
    qtbot, open_window, bench_file: Path, tmp_path: Path
) -> None:
    window = open_window(bench_file)
    queue = tmp_path / "QUEUE.toml"
    queue.write_text(QUEUE)
    window.acquisition.run_queue(queue)
    qtbot.waitUntil(lambda: len(window.acquisition.reports) == 3, timeout=20_000)
    qtbot.waitUntil(lambda: not window.controller.capture_busy, timeout=5000)
    statuses = [report.status for report in window.acquisition.reports]
    assert statuses == ["complete", "failed", "complete"]
    assert [window.acquisition.status_row(i) for i in range(3)] == statuses
    assert "target source 'nonsense'" in window.banner.text()
    for name, rows in (("night-1.h5", 120), ("night-3.h5", 80)):
        with CaptureReader(tmp_path / name) as reader:
            assert reader.n_frames == rows and reader.status == "complete"
    assert not (tmp_path / "night-2.h5").exists()


def test_an_aborted_capture_resumes_to_every_row(qtbot, open_window, bench_file: Path, tmp_path: Path) -> None:
    window = open_window(bench_file)
    out = tmp_path / "resumable.h5"
    fill_plan(window, out, 1500, reference_every=500)
    card = window.acquisition.plan_card
    card.display.setCurrentText("gray")
    card.start.click()
    qtbot.waitUntil(lambda: (u := window.acquisition.last_update) is not None and u.rows_done >= 256, timeout=20_000)
    card.abort.click()
    qtbot.waitUntil(lambda: not window.controller.capture_busy, timeout=20_000)
    assert window.acquisition.reports[-1].status == "aborted"
    with CaptureReader(out) as reader:
        assert reader.status == "aborted" and 0 < reader.n_frames < 1500

    card.start.click()  # the same file again: refused, with what to do
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5000)
    assert "exists already" in window.banner.text() and "Resume a file" in window.banner.text()

    window.acquisition.resume_file(out)
    qtbot.waitUntil(lambda: window.acquisition.reports[-1].label == f"resume {out.name}", timeout=30_000)
    qtbot.waitUntil(lambda: not window.controller.capture_busy, timeout=5000)
    assert window.acquisition.reports[-1].status == "complete"
    with CaptureReader(out) as reader:
        assert reader.n_frames == 1500 and reader.status == "complete"
        assert list(reader.column("target_index")[:1500]) == list(range(1500))  # every row exactly once


def test_preflight_estimate_follows_the_plan(qtbot, open_window, bench_file: Path, tmp_path: Path) -> None:
    window = open_window(bench_file)
    fill_plan(window, tmp_path / "estimate.h5", 2000)
    text = window.acquisition.plan_card.preflight
    qtbot.waitUntil(lambda: "2,000 rows" in text.text(), timeout=5000)
    assert "fits on the disk" in text.text() and "MiB" in text.text()
    window.acquisition.plan_card.targets.setCurrentText("nonsense")
    qtbot.waitUntil(lambda: "nonsense" in text.text() and "✗" in text.text(), timeout=5000)


def test_an_unwritable_output_folder_is_said_so_and_start_stays_disabled(
    qtbot, open_window, bench_file: Path, tmp_path: Path
) -> None:
    window = open_window(bench_file)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    fill_plan(window, blocker / "sub" / "x.h5", 100)
    text = window.acquisition.plan_card.preflight
    qtbot.waitUntil(lambda: "Cannot capture here" in text.text(), timeout=5000)
    assert f"{blocker} is not a folder" in text.text() and "free" not in text.text()
    assert not window.acquisition.plan_card.start.isEnabled()
    fill_plan(window, tmp_path / "ok.h5", 100)
    qtbot.waitUntil(lambda: "fits on the disk" in text.text(), timeout=5000)
    assert window.acquisition.plan_card.start.isEnabled()
    assert window.acquisition.plan_card.out.toolTip() == str(tmp_path / "ok.h5")


def test_the_estimate_uses_the_rate_measured_on_this_bench_and_drift_has_a_fixed_scale(
    qtbot, open_window, bench_file: Path, tmp_path: Path
) -> None:
    window = open_window(bench_file)
    text = window.acquisition.plan_card.preflight
    fill_plan(window, tmp_path / "first.h5", 600, reference_every=200)
    qtbot.waitUntil(lambda: "bench model" in text.text(), timeout=5000)
    window.acquisition.plan_card.start.click()
    qtbot.waitUntil(lambda: not window.controller.capture_busy, timeout=60_000)
    fps = window.acquisition.last_update.frames_per_s
    assert fps > 0
    xs, _ = window.acquisition.drift_curve.getData()
    assert list(xs) == [200, 400, 600]  # rows on the x axis
    low, high = window.acquisition.drift_plot.getViewBox().viewRange()[1]
    assert low <= 0.99 and high >= 1.0  # a fixed scale: tiny drift is not stretched to full height
    fill_plan(window, tmp_path / "second.h5", 6000)
    qtbot.waitUntil(lambda: "measured on this bench" in text.text() and "6,000 rows" in text.text(), timeout=5000)
    assert f"{fps:,.0f} fps" in text.text()
    table = window.acquisition.table
    assert table.horizontalHeaderItem(1).text() == "Folder" and table.item(0, 1).toolTip() == str(tmp_path / "first.h5")


def test_a_plan_power_above_the_bench_limit_is_refused_next_to_the_field(
    qtbot, open_window, bench_file: Path, tmp_path: Path
) -> None:
    window = open_window(bench_file)
    card = window.acquisition.plan_card
    fill_plan(window, tmp_path / "hot.h5", 100)
    assert "0 – 100 mW" in card.power_mw.range_label.text()
    card.power_mw.set_text("150")
    card.start.click()
    assert "Refused, nothing sent" in card.power_mw.refused_text and card.power_mw.edit.text() == "150"
    qtbot.waitUntil(lambda: "plan laser power" in window.banner.text(), timeout=5000)
    assert not window.controller.capture_busy and not (tmp_path / "hot.h5").exists()


def test_a_capture_that_fails_on_the_devices_leaves_the_panel_fresh_devices(
    qtbot, open_window, bench_file: Path, tmp_path: Path
) -> None:
    """As on the command line and in the study (`CaptureQueue.run`): the failed bench is closed, laser off, and
    the panel gets freshly opened devices back, on which the next capture runs."""
    window = open_window(bench_file)
    controller = window.controller
    first = controller.devices.bench
    fill_plan(window, tmp_path / "fails.h5", 20_000, reference_every=1000)
    window.acquisition.plan_card.display.setCurrentText("gray")  # 8 bit planes a frame: slow enough to break

    def overheat(update: object) -> None:
        bench = controller.capture.bench if controller.capture is not None else None
        if update.rows_done >= 256 and bench is not None and bench.laser.status().fault is None:
            bench.laser.inject_fault("overtemperature")

    controller.capture_update.connect(overheat)
    window.acquisition.plan_card.start.click()
    qtbot.waitUntil(lambda: bool(window.acquisition.reports), timeout=30_000)
    qtbot.waitUntil(lambda: not controller.capture_busy and controller.devices.bench is not None, timeout=10_000)
    controller.capture_update.disconnect(overheat)
    report = window.acquisition.reports[-1]
    assert report.status == "failed" and "overtemperature" in report.message
    fresh = controller.devices.bench
    assert fresh is not first and fresh.laser.status().fault is None
    assert first.laser.emission is False and not first.camera.acquiring  # closed with the light off

    fill_plan(window, tmp_path / "after.h5", 120)
    window.acquisition.plan_card.start.click()
    qtbot.waitUntil(lambda: len(window.acquisition.reports) == 2, timeout=20_000)
    assert window.acquisition.reports[-1].status == "complete"
    qtbot.waitUntil(lambda: controller.devices.bench is not None, timeout=10_000)  # handed back once more
