"""Training from the window: the training service's child process, read by a thread that turns its events
into Qt signals. Nothing here imports torch: the window stays light and responsive."""

from __future__ import annotations

from PySide6.QtCore import Signal

from speckle_lab.gui.errors import describe
from speckle_lab.gui.thread_runner import ThreadRunner
from speckle_lab.lab.training_service import TrainingError, TrainingJob, TrainingProcess


class TrainingRunner(ThreadRunner):
    """One training (or evaluation) job. stop/quit may be called from any thread; the child is started from
    the worker thread, so not even the fork happens on the UI thread."""

    batch = Signal(object)  # {"epoch", "epochs", "batch", "n_batches", "loss", "dice"}
    epoch = Signal(object)  # the same, plus "val": validation metrics
    samples = Signal(object)  # {"epoch", "speckle", "target", "prediction"}
    done = Signal(object)  # {"stop_reason", "epochs_completed", "best_epoch", "best_val_dice", ...}
    evaluation = Signal(object)  # model.evaluate.evaluate's result
    failed = Signal(object)  # Problem
    finished = Signal()  # the child has exited
    thread_name = "training"
    daemon = True

    def __init__(self, job: TrainingJob) -> None:
        super().__init__()
        self.job = job
        self.process = TrainingProcess(job)

    def stop(self) -> None:
        self.process.stop()

    def quit(self) -> None:
        self.process.quit()

    def kill(self) -> None:
        self.process.kill()

    def _run(self) -> None:
        signals = {"batch": self.batch, "epoch": self.epoch, "samples": self.samples, "done": self.done}
        failed = False
        try:
            self.process.start()
            for event in self.process.events():
                kind = event.pop("event", "")
                if kind in signals:
                    signals[kind].emit(event)
                elif kind == "evaluation":
                    # the result names files only: the job knows their whole paths, which the table shows
                    self.evaluation.emit({**event["result"], "data_paths": list(self.job.data)})
                elif kind == "error":
                    failed = True
                    self.failed.emit(describe(TrainingError(event.get("message", "")), "training"))
            code = self.process.wait()
            if code and not failed:
                self.failed.emit(
                    describe(
                        TrainingError(f"the training process exited with code {code}; see {self.process.log_path}"),
                        "training",
                    )
                )
        except Exception as error:
            self.failed.emit(describe(error, "starting the training"))
        finally:
            self.finished.emit()
