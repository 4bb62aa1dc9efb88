"""`report.md` from the study's results: the cross-dataset table, the findings as measured, the bench, the
diversity of every training set, and the figures. The numbers are reported whatever they are."""

from __future__ import annotations

import datetime as dt
from importlib import metadata
from pathlib import Path

from lab.study.design import StudyDesign

METRICS = (("pcc", "PCC"), ("ssim", "SSIM"), ("cs", "CS"))


def _cell(result: dict, key: str) -> str:
    return f"{result[key]['mean']:.3f} ± {result[key]['std']:.3f}"


def _pcc(results: dict, train: str, test: str) -> float:
    return results["metrics"][train][test]["pcc"]["mean"]


def findings(results: dict) -> list[str]:
    """The study's four questions, each answered by the measured PCC (expected outcome in brackets)."""
    faces_digits = _pcc(results, "train_faces", "test_digits")
    digits_faces = _pcc(results, "train_digits", "test_faces")
    diverse_faces = _pcc(results, "train_digits_diverse", "test_faces")
    in_region = _pcc(results, "train_digits", "test_digits")
    shifted = _pcc(results, "train_digits", "test_digits_shifted")

    def verdict(holds: bool) -> str:
        return "as expected" if holds else "NOT as expected"

    gap = faces_digits - digits_faces
    closed = (diverse_faces - digits_faces) / gap if gap > 0 else float("nan")
    return [
        f"Faces -> digits PCC {faces_digits:.3f} vs digits -> faces PCC {digits_faces:.3f} "
        f"[expected: faces -> digits clearly above]: {verdict(faces_digits > digits_faces + 0.02)}.",
        f"Enlarged, intensity-jittered digits -> faces PCC {diverse_faces:.3f} vs plain digits -> faces "
        f"{digits_faces:.3f} [expected: closes part of the gap]: {verdict(diverse_faces > digits_faces)}"
        + (f", {100 * closed:.0f} % of the faces/digits gap closed." if closed == closed else "."),
        f"Digits net in its training region PCC {in_region:.3f} vs the other DMD region {shifted:.3f} "
        f"[expected: fails when targets move]: {verdict(shifted < in_region - 0.1)}.",
    ]


def write_report(design: StudyDesign, results: dict, out_dir: Path) -> Path:
    lines = [
        "# speckle-lab demo: generalization across datasets through a scattering medium",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, speckle-lab {_version()}, study `{design.name}`, "
        f"{results['seconds'] / 60:.1f} min on {results['training']['runs'][design.training_sets[0].key]['device']}.",
        "",
        "## Cross-dataset results",
        "",
        "Mean ± standard deviation over the test frames. `own` is the held-out split of the net's own training set.",
        "",
    ]
    tests = ["own", *(t.key for t in design.test_sets)]
    labels = {"own": "own test split", **{t.key: t.label for t in design.test_sets}}
    for key, name in METRICS:
        lines += [f"**{name}**", "", "| trained on | " + " | ".join(labels[t] for t in tests) + " |",
                  "|---|" + "---|" * len(tests)]  # fmt: skip
        for spec in design.training_sets:
            row = results["metrics"][spec.key]
            lines.append(f"| {spec.label} | " + " | ".join(_cell(row[t], key) for t in tests) + " |")
        lines.append("")
    lines += [
        "Baseline, PCC of the mean training target with each test target (a net that learned nothing):",
        "",
        "| mean target of | " + " | ".join(labels[t] for t in tests[1:]) + " |",
        "|---|" + "---|" * len(tests[1:]),
    ]
    for spec in design.training_sets:
        row = results["mean_image_baseline_pcc"][spec.key]
        lines.append(f"| {spec.label} | " + " | ".join(f"{row[t]:.3f}" for t in tests[1:]) + " |")
    lines += ["", "## Findings", "", *(f"- {text}" for text in findings(results)), ""]
    lines += _datasets_section(design, results)
    lines += _training_section(design, results)
    lines += _bench_section(results)
    lines += ["## Figures", ""]
    for spec in design.training_sets:
        for test in design.test_sets:
            lines.append(f"![{spec.label} net on {test.label}](figures/{spec.key}_on_{test.key}_reconstructions.png)")
        lines.append(f"![{spec.label} loss curves](figures/{spec.key}_on_{design.test_sets[0].key}_loss_curves.png)")
        lines.append("")
    lines += ["## Notes", "", *(f"- {note}" for note in results["notes"]), ""]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines))
    return path


def _datasets_section(design: StudyDesign, results: dict) -> list[str]:
    lines = ["## Datasets and their diversity", "",
             "| dataset | role | frames | distinct targets | placement | intrinsic dim. (MLE, k=20) | "
             "entropy (bits) | DMD coverage | reference drift (min corr.) |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for spec in design.datasets:
        facts = results["datasets"][spec.key]
        stats, plan = facts["target_stats"], facts["plan"]
        placement = plan["placement"]
        where = f"{placement['mode']} at ({placement.get('top')}, {placement.get('left')})"
        if placement.get("scale_max", 1) > 1:
            where += f", scale {placement['scale_min']}-{placement['scale_max']}, gain {placement['gain_min']}-" \
                     f"{placement['gain_max']}, jitter {placement['jitter_std']}"  # fmt: skip
        lines.append(
            f"| {spec.label} | {spec.role} | {facts['frames']} | {plan.get('n_targets') or plan['n_frames']} | {where} "
            f"| {stats.get('intrinsic_dimension_mle', float('nan')):.1f} "
            f"| {stats.get('intensity_entropy_bits', 0):.2f} "
            f"| {stats.get('coverage_lit_fraction', 0):.2f} | {facts['reference_correlation_min']:.4f} |"
        )
    return [*lines, ""]


def _training_section(design: StudyDesign, results: dict) -> list[str]:
    config = results["training"]["config"]
    lines = ["## Training", "",
             f"U-Net (7x7 kernels), loss 0.5 MSE + 0.5 soft-Dice, Adam lr {config['lr']}, up to {config['epochs']} "
             f"epochs, early stopping on validation Dice (patience {config['patience_epochs']}).", "",
             "| net | epochs | best epoch | best val. Dice | stop | seconds |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for spec in design.training_sets:
        run = results["training"]["runs"][spec.key]
        lines.append(f"| {spec.label} | {run['epochs_completed']} | {run['best_epoch']} | {run['best_val_dice']:.3f} "
                     f"| {run['stop_reason']} | {run['seconds']} |")  # fmt: skip
    return [*lines, ""]


def _bench_section(results: dict) -> list[str]:
    bench = results["bench"]
    dmd, camera, medium, laser = bench["dmd"], bench["camera"], bench["medium"], bench["laser"]
    return [
        "## Bench (simulated)", "",
        f"- DMD {dmd['mirror_cols']}x{dmd['mirror_rows']} mirrors, active area {dmd['side_macropixels']}x"
        f"{dmd['side_macropixels']} macropixels of {dmd['macropixel_mirrors']}x{dmd['macropixel_mirrors']} mirrors, "
        "8-bit targets as time-multiplexed bit planes",
        f"- Medium: {medium['kind']}, seed {medium['seed']}, speckle grain {medium['grain_px']} px",
        f"- Camera {camera['cols']}x{camera['rows']}, {camera['bit_depth']} bit, exposure {camera['exposure_us']} us, "
        "EMVA 1288 noise model",
        f"- Laser {laser.get('wavelength_nm', '')} nm, {laser['power_w']} W",
        "",
    ]  # fmt: skip


def _version() -> str:
    try:
        return metadata.version("speckle-lab")
    except metadata.PackageNotFoundError:
        return "unknown"
