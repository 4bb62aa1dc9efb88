"""`speckle-lab study budget`: the nets and ridge against the number of training frames, and the light level:
where does a net pass linear optics? A lab's first question is how many frames to capture, and how much light.

On one simulated bench per repeat (a new medium, camera noise and training seed each), faces and digits are
captured at every light level, enough frames for the top of the ladder, plus unseen test faces and digits. The
first n frames of each set train every method for every n of a doubling ladder from 250 (nested sets: the
frames added at each rung are new ones); every method is scored on both tests, in distribution and across.

Geometry: the DMD's active area is the 16x16 target region itself, as in the demo's region (256 unknowns
against ~850 speckle modes): what there is to reconstruct is the target, and the nets' cost is the target's.

The crossover: for each (training set, test, light level) the smallest rung at which a net passes ridge by the
study's rule (lab/study/verdict.py: the paired per-repeat difference exceeds 0.02 PCC by a one-sided t-test),
or none within the ladder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from speckle_lab.acquisition.plan import CapturePlan
from speckle_lab.lab.bench_config import load_bench
from speckle_lab.lab.study import methods as m
from speckle_lab.lab.study.common import Log, Spread, capture_plans, spread_of, write_json
from speckle_lab.lab.study.design import (
    DIGIT_TEST_OFFSET,
    FACE_TEST_BASES,
    FACE_TRAIN_BASES,
    MEDIUM_SEED,
    NET_LAYERS,
    PLAN_SEED,
    TARGET_SIZE,
    study_training,
)
from speckle_lab.lab.study.frames import BenchFrames, read_bench_frames
from speckle_lab.lab.study.regime import regime
from speckle_lab.lab.study.results import Regime
from speckle_lab.lab.study.runner import score
from speckle_lab.lab.study.verdict import MIN_EFFECT, Verdict, decide
from speckle_lab.model.config import TrainConfig

BUDGET_JSON = "budget.json"
SCHEMA = "speckle-lab.budget/1"
FIRST_RUNG = 250
NOMINAL_POWER_W = 0.05  # the study bench's laser setpoint (lab/default_bench.toml)
TRAINING = ("train_faces", "train_digits")
TESTS = ("test_faces", "test_digits")


@dataclass(frozen=True)
class BudgetDesign:
    name: str
    bench_changes: dict
    side: int
    ladder: tuple[int, ...]
    powers_w: tuple[float, ...]  # light levels: laser power, the exposure fixed
    repeats: int
    n_test: int
    train: TrainConfig
    net_layers: dict
    notes: list[str] = field(default_factory=list)

    @property
    def n_train(self) -> int:
        return self.ladder[-1]

    def plans(self, power_w: float) -> list[tuple[str, CapturePlan]]:
        """The four captures of one light level: faces and digits for the top rung, unseen test faces and digits."""
        size = self.side
        common = {
            "target_rows": size,
            "target_cols": size,
            "display": "gray",
            "seed": PLAN_SEED,
            "reference_every": 1000,
            "dark_frames": 8,
            "block_frames": 256,
            "laser_power_w": power_w,
            "placement": {"mode": "fixed", "top": 0, "left": 0},
        }

        def faces(bases: tuple[int, int], n: int) -> str:
            return f"augment:copies={-(-n // (bases[1] - bases[0] + 1))}:bases={bases[0]}-{bases[1]}:lfw"

        n, t = self.n_train, self.n_test
        specs = {
            "train_faces": {"targets": faces(FACE_TRAIN_BASES, n), "n_frames": n},
            "train_digits": {"targets": "mnist", "n_frames": n, "n_targets": min(n, DIGIT_TEST_OFFSET)},
            "test_faces": {"targets": faces(FACE_TEST_BASES, t), "n_frames": t},
            "test_digits": {"targets": "mnist", "n_frames": t, "target_offset": DIGIT_TEST_OFFSET},
        }
        return [(k, CapturePlan.model_validate({**common, **v})) for k, v in specs.items()]


def ladder(top: int) -> tuple[int, ...]:
    """250, 500, 1000, ... up to `top` (the doubling ladder)."""
    rungs = [FIRST_RUNG]
    while rungs[-1] * 2 <= top:
        rungs.append(rungs[-1] * 2)
    return tuple(rungs)


def budget_design(quick: bool, max_frames: int | None = None) -> BudgetDesign:
    """Quick: 250-1000 frames, two light levels (100x apart), 3 repeats. Full: up to 2000 frames (or
    `max_frames`), three light levels, 3 repeats."""
    top = max_frames or (1000 if quick else 2000)
    if top < FIRST_RUNG:
        raise ValueError(f"the ladder starts at {FIRST_RUNG} frames; --max-frames {top} leaves no rung")
    powers = (
        (NOMINAL_POWER_W, NOMINAL_POWER_W / 100)
        if quick
        else (NOMINAL_POWER_W, NOMINAL_POWER_W / 10, NOMINAL_POWER_W / 100)
    )
    bench = {
        "bench": {"name": f"simulated bench (budget study, {'quick' if quick else 'full'})"},
        "dmd": {"macropixel_mirrors": 8, "side_macropixels": TARGET_SIZE},
        "camera": {"rows": 64, "cols": 64},
    }
    train = study_training()
    notes = [
        "Each rung trains on the first n frames of the set (a tenth of them for validation); the sets are nested, so "
        "a larger rung adds new frames to the smaller one's.",
        "Light: the laser power changes, the exposure stays; photons per pixel are in the regime line of each level.",
        "Faces: the 100 bundled LFW faces, 80 training identities augmented into a distinct face per frame, 20 unseen "
        "identities for the test; digits: bundled MNIST, tests from position 4000 of the seeded order.",
    ]
    return BudgetDesign(
        "quick" if quick else "full", bench, TARGET_SIZE, ladder(top), powers, 3, 160, train, dict(NET_LAYERS), notes
    )


class BudgetCell(BaseModel):
    train: str
    test: str
    power_w: float
    n_frames: int
    method: str
    pcc: Spread


class Crossover(BaseModel):
    """Where a net first passes ridge (by the study's rule) for one training set, test and light level."""

    train: str
    test: str
    power_w: float
    net: str
    passes_at: int | None  # the smallest rung where the net passes ridge; None: not within the ladder
    verdicts: dict[int, Verdict]  # rung -> verdict of "the net beats ridge by more than MIN_EFFECT"
    margins: dict[int, Spread]  # rung -> net PCC - ridge PCC


class BudgetResults(BaseModel):
    schema_: str = Field(SCHEMA, alias="schema")
    study: str
    methods: list[str]
    ladder: list[int]
    powers_w: list[float]
    repeats: int
    regimes: dict[str, Regime]  # str(power) -> the regime at the top rung
    cells: list[BudgetCell]
    crossovers: list[Crossover]
    fits: list[dict]
    notes: list[str]
    seconds: float
    cpu_seconds: float

    model_config = {"populate_by_name": True}


def run_budget(design: BudgetDesign, out_dir: Path, log: Log = print) -> BudgetResults:
    started, cpu = time.monotonic(), time.process_time()
    out_dir.mkdir(parents=True, exist_ok=True)
    kinds = m.methods()
    values: dict[tuple, list[float]] = {}
    fits: list[dict] = []
    regimes: dict[str, Regime] = {}
    for r in range(design.repeats):
        config_bench = load_bench(None).with_changes(
            **{
                **design.bench_changes,
                "bench": {**design.bench_changes["bench"], "seed": r},
                "medium": {"seed": MEDIUM_SEED + r},
            }
        )
        for power in design.powers_w:
            log(f"[repeat {r + 1}/{design.repeats}, laser {power:g} W] {time.monotonic() - started:.0f} s so far")
            where = out_dir / "data" / f"r{r}" / f"p{power:g}"
            paths = capture_plans(config_bench, design.plans(power), where, log)
            frames = {key: read_bench_frames(path) for key, path in paths.items()}
            if r == 0:
                levels = {k: float(frames[k].dmd.mean()) for k in TRAINING}
                n = round(design.n_train * (1 - design.train.val_fraction))
                regimes[f"{power:g}"] = regime(
                    config_bench, design.side, design.side, n, levels, power, design.plans(power)[0][1].exposure_us
                )
            for key in TRAINING:
                for n in design.ladder:
                    clock = time.monotonic()
                    subset = frames[key].take(np.arange(n))
                    fitted = _fit_all(design, subset, r, out_dir / "runs" / f"r{r}" / f"p{power:g}" / f"{key}_{n}", log)
                    for test in TESTS:
                        for name, f in fitted.items():
                            values.setdefault((key, test, power, n, name), []).append(score(f.predict, frames[test]))
                    fits.append(
                        {
                            "repeat": r,
                            "power_w": power,
                            "train": key,
                            "n_frames": n,
                            **{name: f.info for name, f in fitted.items()},
                        }
                    )
                    cells = ", ".join(
                        f"{name} {values[key, t, power, n, name][-1]:.3f}"
                        for t in TESTS
                        for name in fitted
                        if name != m.MEAN_IMAGE
                    )
                    log(f"  {key} at {n} frames, {power:g} W ({time.monotonic() - clock:.0f} s): {cells}")
    budget_cells = [
        BudgetCell(train=k[0], test=k[1], power_w=k[2], n_frames=k[3], method=k[4], pcc=spread_of(v))
        for k, v in values.items()
    ]
    results = BudgetResults(
        study=design.name,
        methods=list(kinds),
        ladder=list(design.ladder),
        powers_w=list(design.powers_w),
        repeats=design.repeats,
        regimes=regimes,
        cells=budget_cells,
        crossovers=crossovers(design, values, kinds),
        fits=fits,
        notes=design.notes,
        seconds=round(time.monotonic() - started, 1),
        cpu_seconds=round(time.process_time() - cpu, 1),
    )
    write_json(out_dir / BUDGET_JSON, results)
    from speckle_lab.lab.study.budget_report import write_budget_report

    write_budget_report(results, out_dir)
    return results


def _fit_all(design: BudgetDesign, frames: BenchFrames, repeat: int, run_root: Path, log: Log) -> dict[str, m.Fitted]:
    fitted: dict[str, m.Fitted] = {}
    rows = None
    config = design.train.model_copy(update={"seed": repeat})
    for kind in m.net_kinds():
        net_config = m.net_config(config, kind, design.net_layers)
        fitted[kind], rows = m.train_net(kind, net_config, frames, run_root / kind, f"{len(frames)} frames")
    if rows is None:
        raise RuntimeError("no model kind is registered: the budget study needs at least the U-Net")
    fitted[m.RIDGE] = m.fit_ridge_on(frames, rows, per_frame=config.normalisation == "per_frame")
    fitted[m.MEAN_IMAGE] = m.mean_image(frames, rows)
    return fitted


def crossovers(design: BudgetDesign, values: dict[tuple, list[float]], kinds) -> list[Crossover]:
    out = []
    for key in TRAINING:
        for test in TESTS:
            for power in design.powers_w:
                for net in m.net_kinds():
                    verdicts, margins = {}, {}
                    for n in design.ladder:
                        diff = [
                            a - b
                            for a, b in zip(
                                values[key, test, power, n, net], values[key, test, power, n, m.RIDGE], strict=True
                            )
                        ]
                        verdicts[n] = decide(diff).verdict
                        margins[n] = spread_of(diff)
                    passes = next((n for n in design.ladder if verdicts[n] == "holds"), None)
                    out.append(
                        Crossover(
                            train=key,
                            test=test,
                            power_w=power,
                            net=net,
                            passes_at=passes,
                            verdicts=verdicts,
                            margins=margins,
                        )
                    )
    return out


__all__ = ["MIN_EFFECT", "BudgetDesign", "BudgetResults", "budget_design", "run_budget"]
