"""The human-readable side of an analysis: report.md and probe_curves.png."""

from __future__ import annotations

from pathlib import Path

PROBE_FIGURE = "probe_curves.png"
REPORT = "report.md"


def _fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:.{digits}f}"
    return str(value)


def plot_probe_curves(path: Path, result: dict) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    probes = result["probes"]
    levels = probes["levels"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.9 * len(levels), 3.6))
    ax.plot(levels, probes["id_pcc"], "o-", color="black", label=f"ID: {result['in_distribution']['name']} (test)")
    for name, ood in probes["ood"].items():
        ax.plot(levels, ood["pcc"], "s--", label=f"OOD: {name}")
    encoders = [i for i, level in enumerate(levels) if level.startswith("enc")]
    if encoders:  # the U-Net's bottleneck: its deepest encoder level
        ax.axvline(encoders[-1], color="grey", lw=0.8, ls=":")
    ax.set_xlabel("level (forward order; dotted: the U-Net's bottleneck)")
    ax.set_ylabel("linear probe PCC")
    ax.set_title("Linear probes per level")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_analysis_report(result: dict, out_dir: Path, figure: bool = True) -> Path:
    """report.md (and the probe figure) of an `analyze_run` result."""
    probes, d_data, run = result["probes"], result["d_data"], result["in_distribution"]
    net = ", ".join(f"{k} {_fmt(v)}" for k, v in result["net_pcc"].items())
    mean_target = ", ".join(f"{k} {_fmt(v)}" for k, v in result["mean_target_pcc"].items())
    lines = [
        f"# Analysis of {result['run_dir']} (epoch {result['epoch']})",
        "",
        f"In-distribution: `{run['file']}` ({run['n_train']} probe training frames, {run['n_val']} validation "
        f"frames, {run['n_test']} test frames of the run's split). OOD: "
        + (", ".join(f"`{v['file']}` ({v['n_frames']} frames)" for v in result["ood_sets"].values()) or "none")
        + ".",
        "",
        f"Net PCC: {net}; the training-mean target (a net that learned nothing) scores {mean_target}.",
        "",
        f"## Intrinsic dimension (Levina-Bickel MLE, k = {result['k_neighbours']})",
        "",
        f"d_data of the training targets: {_fmt(d_data['targets'], 1)}; of the speckle: {_fmt(d_data['speckle'], 1)}. "
        f"Label sharpness K_F = max |y_j - y_k| / |x_j - x_k| of the training pairs: {result['label_sharpness']:.3g}.",
        "",
        "| level | d_repr | <= d_data (targets) | <= d_data (speckle) |",
        "|---|---|---|---|",
    ]
    for level in result["levels"]:
        lines.append(
            f"| {level} | {_fmt(result['d_repr'][level], 1)} | {_fmt(result['d_repr_le_d_data']['targets'][level])} | "
            f"{_fmt(result['d_repr_le_d_data']['speckle'][level])} |"
        )
    lines += ["", "## Linear probes per level (PCC)", ""]
    header = ["level", "ID test"] + [f"{name} (% retained)" for name in probes["ood"]]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, level in enumerate(probes["levels"]):
        cells = [level, _fmt(probes["id_pcc"][i])]
        cells += [f"{_fmt(o['pcc'][i])} ({_fmt(o['retained_pct'][i], 0)} %)" for o in probes["ood"].values()]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for name, ood in probes["ood"].items():
        tunnel = f"the tunnel starts at {ood['tunnel_start']}" if ood["tunnel_start"] else "no tunnel"
        lines.append(
            f"- {name}: OOD peak at {ood['peak_level']}, {_fmt(ood['final_retained_pct'], 0)} % of it retained at the "
            f"last level; ID/OOD Pearson correlation of the curves {_fmt(ood['id_ood_pearson'], 2)}; {tunnel}."
        )
    lines += ["", "% retained: a level's OOD probe PCC over the best OOD probe PCC of any level (Harun et al.).", ""]
    if figure:
        plot_probe_curves(out_dir / PROBE_FIGURE, result)
        lines += [f"![probe curves]({PROBE_FIGURE})", ""]
    path = out_dir / REPORT
    path.write_text("\n".join(lines))
    return path
