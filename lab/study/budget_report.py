"""report.md and budget.png of the budget study, from its budget.json numbers only."""

from __future__ import annotations

from pathlib import Path

from speckle_lab.lab.study.methods import MEAN_IMAGE, label
from speckle_lab.lab.study.regime import regime_line
from speckle_lab.lab.study.verdict import ALPHA, MIN_EFFECT

REPORT = "report.md"
FIGURE = "budget.png"
NAMES = {"train_faces": "faces", "train_digits": "digits", "test_faces": "faces", "test_digits": "digits"}


def plot_budget(path: Path, results) -> Path:
    """One panel per (training set -> test): PCC against training frames (log 2), a line per method, solid at the
    nominal light, fainter and dashed at each lower level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = list(dict.fromkeys((c.train, c.test) for c in results.cells))
    fig, axes = plt.subplots(1, len(pairs), figsize=(3.2 * len(pairs), 3.2), squeeze=False)
    styles = ["-", "--", ":"]
    for ax, (train, test) in zip(axes[0], pairs, strict=True):
        for k, power in enumerate(results.powers_w):
            for c, method in enumerate(results.methods):
                cells = sorted(
                    (
                        x
                        for x in results.cells
                        if (x.train, x.test, x.power_w, x.method) == (train, test, power, method)
                    ),
                    key=lambda x: x.n_frames,
                )
                ax.errorbar(
                    [x.n_frames for x in cells],
                    [x.pcc.mean for x in cells],
                    [x.pcc.spread for x in cells],
                    color=f"C{c}",
                    linestyle=styles[k % 3],
                    alpha=1.0 if k == 0 else 0.6,
                    capsize=2,
                    label=f"{label(method)}, {power:g} W" if ax is axes[0, 0] else None,
                )
        ax.set_xscale("log", base=2)
        ax.set_title(f"{NAMES[train]} -> {NAMES[test]}", fontsize=8)
        ax.set_xlabel("training frames")
        ax.set_ylim(-0.1, 1.0)
    axes[0, 0].set_ylabel("PCC")
    fig.legend(fontsize=6, loc="lower center", ncol=len(results.methods))
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_budget_report(results, out_dir: Path, figure: bool = True) -> Path:
    lines = [
        f"# Nets against linear optics by training frames and light ({results.study} budget study)",
        "",
        f"Ladder {', '.join(str(n) for n in results.ladder)} frames; laser "
        f"{', '.join(f'{p:g}' for p in results.powers_w)} W; {results.repeats} repeats (new medium, camera noise and "
        f"training seed each); {results.seconds / 60:.1f} min ({results.cpu_seconds / 60:.1f} min of CPU).",
        "",
        *(f"- {power} W: {regime_line(r)}" for power, r in results.regimes.items()),
        "",
        "## Where a net passes ridge",
        "",
        f"The smallest rung at which the net beats ridge on that test by more than {MIN_EFFECT} PCC (paired "
        f"per-repeat differences, one-sided t-test, p < {ALPHA}); per rung the verdict and the margin net - ridge.",
        "",
        "| trained on | test | laser (W) | net | passes ridge at | "
        + " | ".join(f"{n}" for n in results.ladder)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(results.ladder),
    ]
    for c in results.crossovers:
        cells = [f"{c.verdicts[n]} ({c.margins[n].mean:+.3f} ± {c.margins[n].spread:.3f})" for n in results.ladder]
        at = f"{c.passes_at} frames" if c.passes_at else "not within the ladder"
        lines.append(
            f"| {NAMES[c.train]} | {NAMES[c.test]} | {c.power_w:g} | {label(c.net)} | {at} | "
            + " | ".join(cells)
            + " |"
        )
    lines += ["", "## PCC, mean ± spread over repeats", ""]
    for power in results.powers_w:
        lines += [
            f"**laser {power:g} W**",
            "",
            "| trained on | test | frames | " + " | ".join(label(x) for x in results.methods) + " |",
            "|---|---|---|" + "---|" * len(results.methods),
        ]
        keys = sorted(
            {(c.train, c.test, c.n_frames) for c in results.cells if c.power_w == power},
            key=lambda k: (k[0], k[1], k[2]),
        )
        by = {(c.train, c.test, c.n_frames, c.method): c.pcc for c in results.cells if c.power_w == power}
        for train, test, n in keys:
            cells = [f"{by[train, test, n, x].mean:.3f} ± {by[train, test, n, x].spread:.3f}" for x in results.methods]
            lines.append(f"| {NAMES[train]} | {NAMES[test]} | {n} | " + " | ".join(cells) + " |")
        lines.append("")
    if figure:
        plot_budget(out_dir / FIGURE, results)
        lines += [f"![budget]({FIGURE})", ""]
    lines += [
        "## Notes",
        "",
        *(f"- {n}" for n in results.notes),
        f"- The mean image ({label(MEAN_IMAGE)}) is the constant baseline: a method at or below it has learned "
        "nothing about the target from the speckle.",
        "",
    ]
    path = out_dir / REPORT
    path.write_text("\n".join(lines))
    return path
