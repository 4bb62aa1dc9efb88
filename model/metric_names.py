"""The names of the quality metrics and how they are labelled: one vocabulary for the trainer's log, the
evaluation, the command line, the figures, the report and the panel.

Keys are the strings stored in metrics.csv and results.json (`Metric.PCC == "pcc"`); `label` is for
sentences and listings, `short` for table headers and legends.
"""

from __future__ import annotations

from enum import StrEnum


class Metric(StrEnum):
    LOSS = "loss"
    DICE = "dice"
    DICE_THRESHOLDED = "dice_thresholded"
    PCC = "pcc"
    SSIM = "ssim"
    CS = "cs"

    @property
    def label(self) -> str:
        return _LABELS[self][0]

    @property
    def short(self) -> str:
        return _LABELS[self][1]


_LABELS: dict[Metric, tuple[str, str]] = {
    Metric.LOSS: ("loss", "loss"),
    Metric.DICE: ("Dice", "Dice"),
    Metric.DICE_THRESHOLDED: ("Dice (thresholded)", "Dice>0.5"),
    Metric.PCC: ("PCC", "PCC"),
    Metric.SSIM: ("SSIM", "SSIM"),
    Metric.CS: ("cosine similarity", "CS"),
}

#: Measured on the validation split after every epoch (metrics.csv has `val_<key>` for each).
VALIDATION_METRICS: tuple[Metric, ...] = (Metric.LOSS, Metric.DICE, Metric.PCC, Metric.SSIM, Metric.CS)
#: Reported by `evaluate`, per frame and as mean and spread.
EVALUATION_METRICS: tuple[Metric, ...] = (Metric.PCC, Metric.SSIM, Metric.CS, Metric.DICE, Metric.DICE_THRESHOLDED)
#: The reference study's image-quality measures.
QUALITY_METRICS: tuple[Metric, ...] = (Metric.PCC, Metric.SSIM, Metric.CS)
