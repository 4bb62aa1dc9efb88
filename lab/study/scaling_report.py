"""report.md and scaling.png of the scaling study, from its scaling.json numbers only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

REPORT = "report.md"
FIGURE = "scaling.png"


def _f(value: object, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-2 and value != 0 else f"{value:.{digits}f}"
    return str(value)


def _per_set(results: dict, name: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {key: [] for key in results["sets"]}
    for net in results["nets"]:
        if net[name] is not None:
            out[net["set"]].append(float(net[name]))
    return out


def plot_scaling(path: Path, results: dict) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(results["sets"])
    d = np.array([results["sets"][k]["d_data"] or np.nan for k in keys], np.float64)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, metric, label in ((axes[0], "one_minus_pcc", "test error 1 - PCC"), (axes[1], "mse", "test MSE")):
        values = _per_set(results, metric)
        mean = np.array([np.mean(values[k]) if values[k] else np.nan for k in keys])
        std = np.array([np.std(values[k], ddof=1) if len(values[k]) > 1 else 0.0 for k in keys])
        ax.errorbar(d, mean, yerr=std, fmt="o", capsize=3)
        for k, x, y in zip(keys, d, mean, strict=True):
            ax.annotate(k, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        fit = results["summary"]["fits"][metric]["on_means"]
        if fit["slope"] is not None:
            xs = np.linspace(np.nanmin(d), np.nanmax(d), 50)
            ax.plot(xs, np.exp(fit["intercept"]) * xs ** fit["slope"], "k--", lw=1,
                    label=f"slope {fit['slope']:.2f}, R^2 {fit['r2']:.2f}")  # fmt: skip
            ax.legend(fontsize=8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("d_data of the training targets (MLE, k = 20)")
        ax.set_ylabel(label)
    retained = _per_set(results, "ood_final_retained_pct")
    retained_mean = [np.mean(retained[k]) if retained[k] else np.nan for k in keys]
    axes[2].plot(d, retained_mean, "o")
    for k, x, y in zip(keys, d, retained_mean, strict=True):
        axes[2].annotate(k, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    axes[2].set_xscale("log")
    axes[2].set_xlabel("d_data of the training targets")
    axes[2].set_ylabel("% OOD probe PCC retained at the last level")
    fig.suptitle(f"Scaling study ({results['study']}), {results['design']['repeats']} repeats; bars: std")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_scaling_report(results: dict, out_dir: Path, figure: bool = True) -> Path:
    summary = results["summary"]
    lines = [
        f"# Test error against intrinsic dimension ({results['study']} study)",
        "",
        f"{len(results['sets'])} training sets of {results['design']['n_frames']} frames, "
        f"{results['design']['target_size']}x{results['design']['target_size']} targets, "
        f"{results['design']['repeats']} repeats; {_f(results['seconds']['total'], 0)} s in all.",
        "",
        "## Fit log(error) = slope * log(d_data) + intercept",
        "",
        "| error | slope (mean +- std over repeats) | intercept | R^2 | on the repeat means: slope, R^2 |",
        "|---|---|---|---|---|",
    ]
    for metric, fit in summary["fits"].items():
        s, i, r = fit["slope"], fit["intercept"], fit["r2"]
        lines.append(
            f"| {metric} | {_f(s['mean'])} +- {_f(s['std'])} | {_f(i['mean'])} +- {_f(i['std'])} | "
            f"{_f(r['mean'])} +- {_f(r['std'])} | {_f(fit['on_means']['slope'])}, {_f(fit['on_means']['r2'])} |"
        )
    lines += [
        "",
        f"Pearson correlation of log d_data and log(1 - PCC): {_f(summary['pearson_log_d_data_log_error'])}; "
        f"of log K_F and log(1 - PCC): {_f(summary['pearson_log_k_f_log_error'])}; of d_data and the % OOD "
        f"retained at the last level: {_f(summary['pearson_d_data_ood_final_retained'])}. "
        f"d_repr <= d_data at every level of every net: of the targets "
        f"{'yes' if summary['d_repr_le_d_data_all'] else 'no'}, of the speckle (the net's input) "
        f"{'yes' if summary['d_repr_le_d_data_speckle_all'] else 'no'}.",
        "",
        "## Per training set (means over repeats)",
        "",
        "| set | d_data | d_data speckle | K_F | 1 - PCC | MSE | max d_repr | OOD PCC of the net | % OOD retained "
        "(last level) | tunnel starts |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, facts in results["sets"].items():
        nets = [n for n in results["nets"] if n["set"] == key]

        def mean(name: str, nets: list[dict] = nets) -> str:
            values = [n[name] for n in nets if n[name] is not None]
            if not values:
                return "n/a"
            spread = f" +- {_f(float(np.std(values, ddof=1)))}" if len(values) > 1 else ""
            return f"{_f(float(np.mean(values)))}{spread}"

        tunnels = ", ".join(sorted({str(n["tunnel_start"]) for n in nets}))
        lines.append(
            f"| {key} | {_f(facts['d_data'], 1)} | {_f(facts['d_data_speckle'], 1)} | {_f(facts['label_sharpness'])} | "
            f"{mean('one_minus_pcc')} | {mean('mse')} | {mean('d_repr_max')} | {mean('ood_pcc')} | "
            f"{mean('ood_final_retained_pct')} | {tunnels} |"
        )
    lines += ["", f"Shared OOD set: {results['ood_set']['label']} (d_data {_f(results['ood_set']['d_data'], 1)}).", ""]
    lines += ["## Notes", ""] + [f"- {note}" for note in results["notes"]] + [""]
    if figure:
        plot_scaling(out_dir / FIGURE, results)
        lines += [f"![scaling]({FIGURE})", ""]
    path = out_dir / REPORT
    path.write_text("\n".join(lines))
    return path
