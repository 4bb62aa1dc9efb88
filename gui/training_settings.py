"""The Training page's settings card: the model kind and the recipe (a preset, or the defaults), the numbers an
operator tunes, the run folder, and a line that says what will run: the kind, its loss and the validation
metric that picks the best epoch and stops early.

The names of the kinds and presets come from their registries (`model/registry.py`, `model/presets.py`), the
defaults from `TrainConfig` itself; the line is worked out from the configuration the child will validate, so it
says what the trainer will do, not what the form was meant to do. Nothing here imports torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from speckle_lab.gui import theme
from speckle_lab.gui.paths import default_runs_dir, fresh_name
from speckle_lab.gui.settings import Settings
from speckle_lab.gui.widgets import Card, Pill, bound_form_rows, button, label
from speckle_lab.model.config import TrainConfig
from speckle_lab.model.metric_names import Metric
from speckle_lab.model.presets import PRESETS, preset, with_changes
from speckle_lab.model.registry import entry, kind_names

STATUS_LINES = 3
NO_PRESET = "defaults"  # the recipe of a configuration that names no preset: TrainConfig's own defaults
KERNEL_SIZES = ("3", "5", "7", "9")
DEFAULTS = TrainConfig()  # the one owner of every default the form starts from

# The form's fields: (label, TrainConfig key, key inside `model` or None). The widgets are made in SettingsCard.
FORM_KEYS: tuple[tuple[str, str, str | None], ...] = (
    ("Model", "model", "kind"),
    ("Epochs", "epochs", None),
    ("Batch size", "batch_size", None),
    ("Learning rate", "lr", None),
    ("Patience", "patience_epochs", None),
    ("U-Net depth", "model", "depth"),
    ("Base width", "model", "base_width"),
    ("Kernel", "model", "kernel_size"),
    ("Device", "device", None),
)


def loss_formula(loss: str, mse_weight: float) -> str:
    """The loss as the trainer computes it (model/losses.py), for the operator; a loss the panel does not know
    by name is shown by its key."""
    dice, pcc = Metric.DICE.label, Metric.PCC.label
    if loss == "npcc":
        return f"−{pcc}"
    second = {"mse_dice": f"(1 − {dice})", "mse_npcc": f"(1 − {pcc})"}.get(loss)
    if second is None:
        return loss
    return f"{mse_weight:g} MSE + {1 - mse_weight:g} {second}"


def preset_summary(name: str) -> str:
    """What a preset changes, from the preset itself: "model unet, kernel_size 7, loss mse_dice, ..."."""
    parts = []
    for key, value in preset(name).items():
        if isinstance(value, dict):
            parts += [f"{key} {v}" if k == "kind" else f"{k} {v}" for k, v in value.items()]
        else:
            parts.append(f"{key} {value}")
    return ", ".join(parts)


def describe(config: TrainConfig, recipe: str) -> str:
    """One sentence of what will run: the kind, the loss, the optimizer and what picks the best epoch."""
    kind = config.model.kind
    metric = Metric(config.selection_metric).label
    if config.patience_epochs is None:
        selection = f"best epoch on validation {metric}, no early stopping"
    else:
        selection = f"best epoch and early stopping ({config.patience_epochs} epochs) on validation {metric}"
    return (
        f"{kind} ({entry(kind).summary}) · {recipe} · loss {loss_formula(config.loss, config.mse_weight)} · "
        f"Adam, learning rate {config.lr:g} · {selection}"
    )


class SettingsCard(Card):
    def __init__(self, settings: Settings) -> None:
        super().__init__("Training", "The model kind and its recipe; what will run is said under the form")
        self.pill = Pill("idle")
        self.header.addWidget(self.pill, 0, Qt.AlignmentFlag.AlignTop)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(7)
        self.kind = QComboBox()
        for index, name in enumerate(kind_names()):
            self.kind.addItem(name)
            self.kind.setItemData(index, entry(name).summary, Qt.ItemDataRole.ToolTipRole)
        self.preset = QComboBox()
        self.preset.addItem(NO_PRESET)
        self.preset.setItemData(0, "TrainConfig's defaults (docs/models.md)", Qt.ItemDataRole.ToolTipRole)
        for index, name in enumerate(PRESETS, start=1):
            self.preset.addItem(name)
            self.preset.setItemData(index, preset_summary(name), Qt.ItemDataRole.ToolTipRole)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10_000)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 4096)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 1.0)
        self.lr.setSingleStep(1e-5)
        self.patience = QSpinBox()
        self.patience.setRange(0, 10_000)
        self.patience.setSpecialValueText("never stop early")
        self.patience.setSuffix(" epochs")
        self.unet_depth = QSpinBox()
        self.unet_depth.setRange(1, 6)
        self.unet_depth.setSuffix(" levels")
        self.base_width = QSpinBox()
        self.base_width.setRange(1, 512)
        self.kernel = QComboBox()
        self.kernel.addItems(list(KERNEL_SIZES))
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self._fill(DEFAULTS.model_dump())
        self.run_dir = QLineEdit(str(fresh_name(default_runs_dir(), "run")))
        browse = button("…", "tool", "Choose the run folder")
        browse.clicked.connect(self._browse)
        renew = button("↻", "tool", "A new, time-stamped run folder next to this one")
        renew.clicked.connect(self.new_run_dir)
        run_row = QHBoxLayout()
        run_row.setSpacing(6)
        run_row.addWidget(self.run_dir, 1)
        run_row.addWidget(browse)
        run_row.addWidget(renew)
        widgets = self._form_widgets()
        bound_form_rows(
            form,
            settings,
            "training",
            (
                ("Model", "model_kind", self.kind),
                ("Recipe", "preset", self.preset),
                *((text, _settings_key(key, sub), widgets[text]) for text, key, sub in FORM_KEYS if text != "Model"),
            ),
        )
        form.addRow(label("Run folder", "muted"), run_row)
        settings.bind(self.run_dir, "training/run_dir")
        self.body.addLayout(form)
        self.recipe = label("", "cardSub", wrap=True)  # what will run
        self.recipe.setObjectName("recipe")
        self.body.addWidget(self.recipe)
        # A recipe chosen fills the form with its values (restoring the settings above filled nothing): what the
        # form shows is what runs; the loss and the selection metric, which have no field, come with it.
        self.preset.currentIndexChanged.connect(self._apply_preset)
        for widget in widgets.values():
            if isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._describe)
            elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                widget.valueChanged.connect(self._describe)
        self.preset.currentIndexChanged.connect(self._describe)
        self._describe()
        # Start and Stop in a bar of their own under the form, always in view (the form scrolls on a small
        # screen), the progress line in a fixed height so it never moves them under the mouse.
        self.run_bar = QFrame()
        self.run_bar.setObjectName("card")
        bar = QVBoxLayout(self.run_bar)
        bar.setContentsMargins(14, 10, 14, 12)
        bar.setSpacing(8)
        buttons = QHBoxLayout()
        self.start = button("Start training", "primary")
        self.stop = button("Stop", "danger")
        buttons.addWidget(self.start, 2)
        buttons.addWidget(self.stop, 1)
        bar.addLayout(buttons)
        self.status = label("", "cardSub", wrap=True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.status.setFixedHeight(STATUS_LINES * self.status.fontMetrics().lineSpacing() + 4)
        bar.addWidget(self.status)

    def _form_widgets(self) -> dict[str, QWidget]:
        return {
            "Model": self.kind,
            "Epochs": self.epochs,
            "Batch size": self.batch_size,
            "Learning rate": self.lr,
            "Patience": self.patience,
            "U-Net depth": self.unet_depth,
            "Base width": self.base_width,
            "Kernel": self.kernel,
            "Device": self.device,
        }

    # -- the configuration --------------------------------------------------------------------------------
    @property
    def preset_name(self) -> str | None:
        name = self.preset.currentText()
        return None if name == NO_PRESET else name

    def form_values(self) -> dict[str, Any]:
        """The form's fields as TrainConfig keys."""
        return {
            "epochs": self.epochs.value(),
            "batch_size": self.batch_size.value(),
            "lr": self.lr.value(),
            "patience_epochs": self.patience.value() or None,
            "device": self.device.currentText(),
            "model": {
                "kind": self.kind.currentText(),
                "depth": self.unet_depth.value(),
                "base_width": self.base_width.value(),
                "kernel_size": int(self.kernel.currentText()),
            },
        }

    def config(self) -> dict:
        """TrainConfig keys (validated by the trainer, in its process): the recipe, then the form on top, as
        `speckle-lab train --preset NAME` puts the options given on top of the preset."""
        name = self.preset_name
        return with_changes(preset(name), self.form_values()) if name else self.form_values()

    def train_config(self) -> TrainConfig:
        """The configuration the child will run (raises pydantic's ValidationError, as the child would)."""
        return TrainConfig.model_validate(self.config())

    def _recipe_values(self, name: str | None) -> dict[str, Any]:
        """The values a recipe gives every field: its changes on top of the defaults."""
        defaults = DEFAULTS.model_dump()
        return with_changes(defaults, preset(name)) if name else defaults

    def changed_from_recipe(self) -> list[str]:
        """The fields (by their labels) the operator changed after choosing the recipe."""
        recipe, form = self._recipe_values(self.preset_name), self.form_values()
        changed = []
        for text, key, sub in FORM_KEYS:
            wanted = recipe[key][sub] if sub else recipe[key]
            value = form[key][sub] if sub else form[key]
            if wanted != value:
                changed.append(text.lower())
        return changed

    def _apply_preset(self) -> None:
        self._fill(self._recipe_values(self.preset_name))

    def _fill(self, values: dict[str, Any]) -> None:
        model = values["model"]
        self.kind.setCurrentText(model["kind"])
        self.epochs.setValue(values["epochs"])
        self.batch_size.setValue(values["batch_size"])
        self.lr.setValue(values["lr"])
        self.patience.setValue(values["patience_epochs"] or 0)
        self.device.setCurrentText(values["device"])
        self.unet_depth.setValue(model["depth"])
        self.base_width.setValue(model["base_width"])
        kernel = str(model["kernel_size"])
        if self.kernel.findText(kernel) < 0:
            self.kernel.addItem(kernel)
        self.kernel.setCurrentText(kernel)

    def _describe(self) -> None:
        name = self.preset_name
        recipe = f"recipe {name}" if name else "default recipe"
        changed = self.changed_from_recipe() if name else []
        if changed:
            recipe += f" (changed: {', '.join(changed)})"
        try:
            text, error = describe(self.train_config(), recipe), False
        except ValidationError as invalid:
            first = invalid.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            text, error = f"Not a valid configuration: {where}: {first['msg']}", True
        self.recipe.setText(text)
        self.recipe.setStyleSheet(f"color: {theme.ERROR};" if error else "")

    # -- the run folder -----------------------------------------------------------------------------------
    def new_run_dir(self) -> None:
        current = Path(self.run_dir.text().strip() or default_runs_dir() / "run")
        self.run_dir.setText(str(fresh_name(current.parent, "run")))

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Run folder", str(Path(self.run_dir.text()).parent))
        if path:
            self.run_dir.setText(path)

    def set_form_enabled(self, enabled: bool) -> None:
        for widget in (self.preset, *self._form_widgets().values(), self.run_dir):
            widget.setEnabled(enabled)


def _settings_key(key: str, sub: str | None) -> str:
    """The key each field has always been stored under (settings of earlier versions stay)."""
    return {"patience_epochs": "patience", "base_width": "width", "kernel_size": "kernel"}.get(sub or key, sub or key)
