"""`report.md` from the study's results: the findings with their spreads, the cross-dataset tables with both
baselines beside every U-Net, the homogeneity of every training set, the per-position heat maps, the ablations
and media. The numbers are reported whatever they are."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np

from speckle_lab.acquisition.version import software_version
from speckle_lab.lab.study.design import StudyDesign


def _ms(cell: dict) -> str:
    return f"{cell['mean']:.3f} ± {cell['spread']:.3f}"


def finding_lines(results: dict) -> list[str]:
    """One line per finding: the effect, its spread and the verdict."""
    lines = []
    for f in results["findings"]:
        (name_a, a), (name_b, b) = f["compares"].items()
        line = (f"`{f['id']}` {'HOLDS' if f['holds'] else 'does NOT hold'}: {f['statement']}. {name_a} {_ms(a)} vs "
                f"{name_b} {_ms(b)}; effect {f['effect']:+.3f} ± {f['spread']:.3f} over {f['repeats']} repeats "
                f"(paired t-test one-sided p = {f['paired_t_p_one_sided']:.3g})")  # fmt: skip
        if "fraction_of_gap_closed" in f and not math.isnan(f["fraction_of_gap_closed"]):
            line += f"; {100 * f['fraction_of_gap_closed']:.0f} % of the faces/digits gap closed"
        pair, base = next(iter(f["baselines"].items()))
        beaten = "" if a["mean"] > base["mean_image"]["mean"] else " (the U-Net does not beat the mean image)"
        line += f". Baselines for {pair}: ridge {_ms(base['ridge'])}, mean image {_ms(base['mean_image'])}{beaten}"
        lines.append(line + ".")
    return lines


def write_report(design: StudyDesign, results: dict, out_dir: Path) -> Path:
    main = results["conditions"]["main"]
    labels = {d.key: d.label for d in design.datasets}
    lines = [
        "# speckle-lab demo: generalization across datasets through a scattering medium",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, speckle-lab {software_version()}, study `{design.name}`, "
        f"{results['seconds'] / 60:.1f} min, {len(main['repeats'])} independent repeats of the main study "
        "(each: a new medium seed and a new training seed).",
        "",
        "## Findings",
        "",
        "A finding holds when its effect (a difference of U-Net PCCs, paired within each repeat) is positive and "
        "larger than twice its spread across repeats.",
        "",
        *(f"- {line}" for line in finding_lines(results)),
        "",
        "## Cross-dataset PCC, mean ± spread over repeats",
        "",
        "Each cell: U-Net / ridge (linear baseline, same training frames) / mean training image.",
        "",
    ]
    lines += _pcc_table(main, labels)
    lines += _homogeneity_section(main, labels)
    lines += _heat_map_section(design, results, out_dir, labels)
    lines += _region_shift_section(results)
    for name, condition in results["conditions"].items():
        if name == "main":
            continue
        lines += [f"## {condition['label']}", "", f"Condition `{name}`, {len(condition['repeats'])} repeat(s).", ""]
        lines += _pcc_table(condition, labels)
    lines += _training_section(results)
    lines += _bench_section(results)
    lines += ["## Figures", ""]
    for key in design.main.training:
        for test in design.main.tests:
            lines.append(f"![{labels[key]} net on {labels[test]}](figures/main_{key}_on_{test}.png)")
        lines.append("")
    lines += ["## Notes", "", *(f"- {note}" for note in results["notes"]), ""]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines))
    return path


def _pcc_table(condition: dict, labels: dict) -> list[str]:
    table = condition["summary"]["pcc"]
    tests = list(next(iter(table.values())))
    lines = ["| trained on | " + " | ".join(labels[t] for t in tests) + " |", "|---|" + "---|" * len(tests)]
    for train, row in table.items():
        cells = [" / ".join(_ms(row[t][m]) for m in ("unet", "ridge", "mean_image")) for t in tests]
        lines.append(f"| {labels[train]} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _region_shift_section(results: dict) -> list[str]:
    """The digits net's region shift on every medium the study ran: ground glass, thin diffuser, eta > 0."""
    rows = []
    for name, condition in results["conditions"].items():
        table = condition["summary"]["pcc"].get("train_digits", {})
        if "test_digits" not in table or "test_digits_shifted" not in table:
            continue
        inside, outside = table["test_digits"]["unet"], table["test_digits_shifted"]["unet"]
        effects = [a - b for a, b in zip(inside["values"], outside["values"], strict=True)]
        eta = condition["medium"].get("ballistic_fraction", 0.0)
        kind = condition["medium"].get("kind", "transmission_matrix")
        rows.append(f"| {name} | {kind} | {eta:g} | {len(effects)} | {_ms(inside)} | {_ms(outside)} "
                    f"| {np.mean(effects):+.3f} |")  # fmt: skip
    if len(rows) < 2:
        return []
    return ["## Region shift against the medium", "",
            "The digits net (trained in the ROI) on unseen digits in the ROI and in the other region (U-Net PCC).", "",
            "| condition | medium | ballistic eta | repeats | training region | other region | drop |",
            "|---|---|---|---|---|---|---|", *rows, ""]  # fmt: skip


def _homogeneity_section(condition: dict, labels: dict) -> list[str]:
    lines = ["## Homogeneity of the training sets over the target region", "",
             "From the DMD coverage maps: strength = mean per-macropixel variance of the displayed level; evenness = "
             "5th percentile of the variance map over its mean; exercised = fraction of macropixels with at least a "
             "quarter of the mean variance; homogeneity = evenness x exercised.", "",
             "| training set | strength | evenness | exercised | homogeneity |", "|---|---|---|---|---|"]  # fmt: skip
    for train, h in condition["summary"]["homogeneity"].items():
        lines.append(f"| {labels[train]} | {h['strength']['mean']:.4f} | {h['evenness']['mean']:.3f} "
                     f"| {h['exercised_fraction']['mean']:.3f} | {h['homogeneity']['mean']:.3f} |")  # fmt: skip
    return [*lines, ""]


def _heat_map_section(design: StudyDesign, results: dict, out_dir: Path, labels: dict) -> list[str]:
    repeats = results["conditions"]["main"]["repeats"]
    lines = ["## Where each net's mapping is valid: single-spot probes", "",
             "Every net is shown a lit disc (radius 1 macropixel) at every position of the active area; a map holds "
             "the PCC of its reconstruction with the disc, averaged over repeats. Means over the target region (ROI), "
             "the other region and the whole area:", "",
             "| net | U-Net ROI | U-Net other | U-Net all | ridge ROI | ridge other | ridge all |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    figures = []
    for train in design.main.training:
        maps = {m: np.nanmean([np.asarray(r["heat_maps"][train][m]["map"], float) for r in repeats], axis=0)
                for m in ("unet", "ridge")}  # fmt: skip
        cells = [f"{np.mean([r['heat_maps'][train][m][f'mean_{reg}'] for r in repeats]):.3f}"
                 for m in ("unet", "ridge") for reg in ("roi", "other", "all")]  # fmt: skip
        lines.append(f"| {labels[train]} | " + " | ".join(cells) + " |")
        figures.append(_plot_heat_map(out_dir / "figures" / f"heat_{train}.png", maps, design, labels[train]))
    lines.append("")
    lines += [f"![heat map, {labels[t]}](figures/{p.name})" for t, p in zip(design.main.training, figures, strict=True)]
    return [*lines, ""]


def _plot_heat_map(path: Path, maps: dict, design: StudyDesign, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
    for ax, (name, heat) in zip(axes, maps.items(), strict=True):
        im = ax.imshow(heat, vmin=-0.2, vmax=1.0, cmap="viridis")
        for region, colour in (("roi", "white"), ("other", "red")):
            top, left, h, w = design.regions[region]
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor=colour, linewidth=1.2))
        ax.set_title(f"{name}: PCC per spot position")
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(f"{title} (white: training region, red: other region)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _training_section(results: dict) -> list[str]:
    config = results["training"]["config"]
    lines = ["## Training", "",
             f"U-Net (7x7 kernels), loss 0.5 MSE + 0.5 soft-Dice, Adam lr {config['lr']}, up to {config['epochs']} "
             f"epochs, early stopping on validation Dice (patience {config['patience_epochs']}), input normalisation "
             f"`{config['normalisation']}`. Ridge: lambda chosen on 20 % of the training frames.", "",
             "| condition | repeat | net | epochs | best epoch | best val. Dice | seconds | ridge lambda |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, condition in results["conditions"].items():
        for r, rep in enumerate(condition["repeats"]):
            for train, run in rep["training"].items():
                lines.append(f"| {name} | {r} | {train.removeprefix('train_')} | {run['epochs_completed']} "
                             f"| {run['best_epoch']} | {run['best_val_dice']:.3f} | {run['seconds']} "
                             f"| {run['ridge_lambda']:g} |")  # fmt: skip
    return [*lines, ""]


def _bench_section(results: dict) -> list[str]:
    bench = results["bench"]
    dmd, camera, medium, laser = bench["dmd"], bench["camera"], bench["medium"], bench["laser"]
    return [
        "## Bench (simulated)", "",
        f"- DMD {dmd['mirror_cols']}x{dmd['mirror_rows']} mirrors, active area {dmd['side_macropixels']}x"
        f"{dmd['side_macropixels']} macropixels of {dmd['macropixel_mirrors']}x{dmd['macropixel_mirrors']} mirrors, "
        "8-bit targets as time-multiplexed bit planes",
        f"- Medium: {medium['kind']}, seed {medium['seed']} + repeat, speckle grain {medium['grain_px']} px",
        f"- Camera {camera['cols']}x{camera['rows']}, {camera['bit_depth']} bit, exposure {camera['exposure_us']} us, "
        "EMVA 1288 noise model",
        f"- Laser {laser.get('wavelength_nm', '')} nm, {laser['power_w']} W",
        "",
    ]  # fmt: skip
