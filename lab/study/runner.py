"""Run the study: for every condition and repeat, capture its datasets on a fresh simulated bench, fit every
method (the nets of the model registry, ridge, the mean image) on every training set with whole-area labels,
score them over the region shown on every test set, probe them with single spots beside the oracle, and hand
the numbers to the findings and the report. Every phase logs its progress (per set, per block of frames, per
epoch), so a long run is never silent.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from speckle_lab.acquisition.targets.homogeneity import homogeneity_of
from speckle_lab.lab.bench_config import BenchConfig, load_bench
from speckle_lab.lab.study import methods as m
from speckle_lab.lab.study.common import Log, capture_plans, write_json
from speckle_lab.lab.study.design import MEDIUM_SEED, ORACLE, PROBES, Condition, StudyDesign
from speckle_lab.lab.study.findings import findings, summarise
from speckle_lab.lab.study.frames import BenchFrames, read_bench_frames, region_pcc
from speckle_lab.lab.study.oracle import agreement_maps, fit_oracle, region_mean, responses, spot_maps
from speckle_lab.lab.study.regime import regime
from speckle_lab.lab.study.results import ConditionResult, RepeatResult, SpotMaps, StudyResults
from speckle_lab.lab.study.tables import oracle_rows, region_shift_rows

RESULTS_JSON = "results.json"


def bench_config(design: StudyDesign, condition: Condition | None = None, repeat: int = 0) -> BenchConfig:
    """The study's bench for one repeat: its own medium seed and camera-noise seed, and the condition's medium."""
    medium = {"seed": MEDIUM_SEED + repeat, **(condition.medium if condition else {})}
    bench = {**design.bench_changes.get("bench", {}), "seed": repeat}
    return load_bench(None).with_changes(**{**design.bench_changes, "bench": bench, "medium": medium})


def _keys(design: StudyDesign, condition: Condition) -> list[str]:
    keys = [*condition.training, *condition.tests]
    return [*keys, PROBES, ORACLE] if condition.probes else keys


def score(predict: m.Predict, frames: BenchFrames) -> float:
    """Mean PCC over the region shown of a method's whole-area reconstructions of a set."""
    return float(region_pcc(m.in_batches(predict, frames.speckle), frames.dmd, frames.boxes).mean())


def d_data(frames: BenchFrames, rows: np.ndarray) -> float:
    from speckle_lab.model.analysis.dimension import K_NEIGHBOURS, safe_dimension

    return float(safe_dimension(frames.dmd[rows].reshape(len(rows), -1), K_NEIGHBOURS))


def run_repeat(design: StudyDesign, condition: Condition, repeat: int, out_dir: Path, log: Log) -> RepeatResult:
    """One repeat of one condition: every method on every training set, scored on every test set; with probes,
    the oracle and the single-spot maps."""
    where = out_dir / "data" / condition.name / f"r{repeat}"
    plans = [(key, design.plan(condition, key)) for key in _keys(design, condition)]
    clock = time.monotonic()
    paths = capture_plans(bench_config(design, condition, repeat), plans, where, log)
    frames = {key: read_bench_frames(path) for key, path in paths.items()}
    seconds = {"capture": round(time.monotonic() - clock, 1)}
    config = condition.train.model_copy(update={"seed": repeat})
    per_frame = config.normalisation == "per_frame"  # ridge and the oracle see the input as the nets do
    result = RepeatResult(
        repeat=repeat, medium_seed=MEDIUM_SEED + repeat, bench_seed=repeat, training_seed=repeat, pcc={}, homogeneity={}
    )
    oracle_response = None
    if condition.probes:
        clock = time.monotonic()
        log(f"  [{condition.name} r{repeat}] fitting the oracle on {len(frames[ORACLE])} random patterns")
        oracle = fit_oracle(frames[ORACLE], per_frame)
        result.oracle_pcc = {test: score(oracle.predict, frames[test]) for test in condition.tests}
        oracle_response = responses({"oracle": oracle.predict}, frames[PROBES])["oracle"]
        seconds["oracle"] = round(time.monotonic() - clock, 1)
        log(
            f"  [{condition.name} r{repeat}] oracle ({len(frames[ORACLE])} random patterns): "
            + ", ".join(f"{t.removeprefix('test_')} {v:.3f}" for t, v in result.oracle_pcc.items())
        )
    kinds = m.net_kinds()
    for i, key in enumerate(condition.training, 1):
        clock = time.monotonic()
        data = frames[key]
        log(f"  [{condition.name} r{repeat}] training set {i}/{len(condition.training)}: {key}")
        fitted: dict[str, m.Fitted] = {}
        rows = None
        for kind in kinds:
            run_dir = out_dir / "runs" / condition.name / f"r{repeat}" / key.removeprefix("train_") / kind
            net_config = m.net_config(config, kind, design.net_layers)
            fitted[kind], rows = m.train_net(kind, net_config, data, run_dir, key.removeprefix("train_"), log)
        if rows is None:
            raise RuntimeError("no model kind is registered: the study needs at least the U-Net")
        log(f"      ridge on {len(rows)} frames")
        fitted[m.RIDGE] = m.fit_ridge_on(data, rows, per_frame)
        fitted[m.MEAN_IMAGE] = m.mean_image(data, rows)
        result.pcc[key] = {
            test: {name: score(f.predict, frames[test]) for name, f in fitted.items()} for test in condition.tests
        }
        result.fits[key] = {name: f.info for name, f in fitted.items()}
        result.curves[key] = {kind: fitted[kind].history for kind in kinds}
        result.homogeneity[key] = {
            **homogeneity_of(data.dmd[rows], design.regions["roi"]),
            "d_data": d_data(data, rows),
        }
        if condition.probes:
            result.maps[key] = _maps(design, frames[PROBES], fitted, oracle_response)
        if repeat == 0:
            from speckle_lab.lab.study.report_figures import plot_examples

            plot_examples(
                out_dir / "figures",
                condition.name,
                key,
                fitted,
                {t: frames[t] for t in condition.tests},
                design.figures_per_pair,
            )
        seconds[key] = round(time.monotonic() - clock, 1)
        cells = "; ".join(
            f"{test.removeprefix('test_')}: " + ", ".join(f"{n} {v:.3f}" for n, v in row.items())
            for test, row in result.pcc[key].items()
        )
        log(f"  [{condition.name} r{repeat}] {key} done in {seconds[key]:.0f} s. {cells}")
    result.seconds = seconds
    return result


def _maps(design: StudyDesign, probes: BenchFrames, fitted: dict[str, m.Fitted], oracle: np.ndarray | None) -> dict:
    shown = responses({name: f.predict for name, f in fitted.items() if name != m.MEAN_IMAGE}, probes)
    quality = spot_maps(probes, shown)
    agreement = agreement_maps(probes, shown, oracle) if oracle is not None else {}
    out = {}
    for name, heat in quality.items():
        means = {f"quality_{region}": region_mean(heat, bounds) for region, bounds in design.regions.items()}
        agree = agreement.get(name)
        if agree is not None:
            means |= {f"agreement_{region}": region_mean(agree, bounds) for region, bounds in design.regions.items()}
        out[name] = SpotMaps(
            quality=np.round(heat, 4).tolist(),
            agreement=np.round(agree, 4).tolist() if agree is not None else None,
            means=means,
        )
    return out


def run_study(design: StudyDesign, out_dir: Path, log: Log = print) -> StudyResults:
    started, cpu = time.monotonic(), time.process_time()
    out_dir.mkdir(parents=True, exist_ok=True)
    conditions: dict[str, ConditionResult] = {}
    kinds = m.methods()
    for condition in design.conditions:
        repeats = []
        for r in range(condition.repeats):
            log(
                f"[{condition.name}] {condition.label}: repeat {r + 1}/{condition.repeats} (medium seed "
                f"{MEDIUM_SEED + r}, camera-noise seed {r}, training seed {r}), "
                f"{time.monotonic() - started:.0f} s so far"
            )
            repeats.append(run_repeat(design, condition, r, out_dir, log))
        conditions[condition.name] = ConditionResult(
            name=condition.name,
            label=condition.label,
            medium=condition.medium,
            train=condition.train.model_dump(mode="json"),
            plans={k: p.model_dump(mode="json") for k, p in condition.plans.items()},
            repeats=repeats,
            summary=summarise(repeats),
        )
    main = conditions[design.main.name]
    results = StudyResults(
        study=design.name,
        methods=list(kinds),
        bench=bench_config(design).to_dict(),
        regions={name: list(r) for name, r in design.regions.items()},
        datasets={
            s.key: {"label": s.label, "role": s.role, "plan": s.plan.model_dump(mode="json")} for s in design.datasets
        },
        training={"config": design.train.model_dump(mode="json"), "net_layers": design.net_layers},
        regime=_regime(design, out_dir),
        conditions=conditions,
        findings=findings(main.repeats, kinds),
        region_shift=region_shift_rows(design, conditions, kinds),
        oracle=oracle_rows(main, kinds),
        notes=design.notes,
        seconds=round(time.monotonic() - started, 1),
        cpu_seconds=round(time.process_time() - cpu, 1),  # all threads: the load on a shared machine
    )
    write_json(out_dir / RESULTS_JSON, results)
    return results


def _regime(design: StudyDesign, out_dir: Path):
    """The main condition's regime, from its first repeat's training files."""
    config = bench_config(design)
    where = out_dir / "data" / design.main.name / "r0"
    levels = {}
    for key in design.main.training:
        levels[key] = float(read_bench_frames(where / f"{key}.h5").dmd.mean())
    plan = design.dataset(design.main.training[0]).plan
    n_train = round(plan.n_frames * (1 - design.train.val_fraction))
    return regime(config, design.target_size, design.side, n_train, levels, plan.laser_power_w, plan.exposure_us)
