"""One dialog for an evaluation: the run and the data files side by side, checked before anything starts.

It replaces two file pickers in a row, where the operator could not see the run while choosing the data. The
dialog only chooses; the evaluation runs in the training child process and its row lands in the page's table.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from speckle_lab.gui.widgets import button, label, wheel_needs_focus


class EvaluationDialog(QDialog):
    """Pick a trained run folder and the HDF5 files to evaluate its best net on."""

    def __init__(self, run_dir: str, data: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Evaluate a run")
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(
            label(
                "The run's best net is evaluated on the files, in order, as one data set: its test split when they "
                "are the files it was trained on, every frame otherwise.",
                "muted",
                wrap=True,
            )
        )
        form = QFormLayout()
        run_row = QHBoxLayout()
        self.run_dir = QLineEdit(run_dir)
        self.run_dir.setPlaceholderText("a finished run folder (with best.pt)")
        self.run_dir.textChanged.connect(lambda text: self.run_dir.setToolTip(text))
        self.run_dir.setToolTip(run_dir)
        self.browse_run = button("Browse…")
        self.browse_run.clicked.connect(self._browse_run)
        run_row.addWidget(self.run_dir, 1)
        run_row.addWidget(self.browse_run)
        form.addRow("Run", run_row)
        self.files = QListWidget()
        self.files.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.files.setMinimumHeight(90)
        self.add_paths(data)
        form.addRow("Data", self.files)
        files_row = QHBoxLayout()
        self.add_files = button("Add files…")
        self.add_files.clicked.connect(self._browse_files)
        self.remove_files = button("Remove", "flat")
        self.remove_files.clicked.connect(self._remove_selected)
        files_row.addWidget(self.add_files)
        files_row.addStretch(1)
        files_row.addWidget(self.remove_files)
        form.addRow("", files_row)
        layout.addLayout(form)
        self.error = label("", "fieldError", wrap=True)
        self.error.setStyleSheet("color: #ef5a5f;")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel = button("Cancel", "flat")
        self.cancel.clicked.connect(self.reject)
        self.evaluate = button("Evaluate", "primary")
        self.evaluate.setDefault(True)
        self.evaluate.clicked.connect(self._accept_if_valid)
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.evaluate)
        layout.addLayout(buttons)
        wheel_needs_focus(self)

    def add_paths(self, paths: list[str] | list[Path]) -> None:
        present = set(self.paths())
        for path in map(str, paths):
            if path not in present:
                self.files.addItem(path)
                self.files.item(self.files.count() - 1).setToolTip(path)
                present.add(path)

    def paths(self) -> list[str]:
        return [self.files.item(i).text() for i in range(self.files.count())]

    def choice(self) -> tuple[Path, list[str]]:
        return Path(self.run_dir.text().strip()).expanduser(), self.paths()

    def problem(self) -> str:
        """Why the choice cannot be evaluated, in one line; empty when it can."""
        run_text = self.run_dir.text().strip()
        if not run_text:
            return "Choose the run folder to evaluate."
        run_dir, paths = self.choice()
        if not run_dir.is_dir():
            return f"Run folder {run_dir} does not exist."
        if not paths:
            return "Add at least one data file."
        missing = [p for p in paths if not Path(p).expanduser().is_file()]
        if missing:
            return f"Data file {missing[0]} does not exist."
        return ""

    def _accept_if_valid(self) -> None:
        problem = self.problem()
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
        if not problem:
            self.accept()

    def _browse_run(self) -> None:
        start = self.run_dir.text().strip()
        path = QFileDialog.getExistingDirectory(self, "A finished run", start)
        if path:
            self.run_dir.setText(path)

    def _browse_files(self) -> None:
        start = str(Path(self.paths()[-1]).parent) if self.paths() else ""
        paths, _ = QFileDialog.getOpenFileNames(self, "Data to evaluate on", start, "HDF5 (*.h5 *.hdf5)")
        self.add_paths(paths)

    def _remove_selected(self) -> None:
        for item in self.files.selectedItems():
            self.files.takeItem(self.files.row(item))
