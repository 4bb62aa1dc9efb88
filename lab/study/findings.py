"""The study's findings from its repeats: each an effect (a difference of PCCs, paired by repeat), its spread
across repeats, and whether it holds.

Rule, fixed before any run: an effect holds when its mean over repeats is positive and exceeds twice its spread
(the sample standard deviation of the per-repeat effects, which pairs the two sides within each repeat: same
medium, same training seed). "Closes most of the gap" also needs at least half of the faces/digits gap closed.
A paired one-sided t-test p-value is reported beside it for information; it does not decide `holds`.
"""

from __future__ import annotations

import math

import numpy as np

FINDING_IDS = (
    "faces_vs_digits",
    "diversity_closes_gap",
    "homogeneity_closes_gap",
    "region_shift_fails",
    "random_placement_generalizes",
)
METHODS = ("unet", "ridge", "mean_image")


def mean_spread(values: list[float]) -> dict:
    """mean, spread (sample std; 0 for one value) and the values."""
    v = np.asarray(values, dtype=np.float64)
    spread = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    return {"mean": float(v.mean()), "spread": spread, "values": [float(x) for x in v]}


def summarise(repeats: list[dict]) -> dict:
    """`table[train][test][method]` = mean_spread over repeats; `homogeneity[train]` likewise."""
    first = repeats[0]["pcc"]
    table = {
        train: {test: {m: mean_spread([r["pcc"][train][test][m] for r in repeats]) for m in METHODS} for test in row}
        for train, row in first.items()
    }
    homogeneity = {
        train: {k: mean_spread([r["homogeneity"][train][k] for r in repeats]) for k in repeats[0]["homogeneity"][train]}
        for train in repeats[0]["homogeneity"]
    }
    return {"pcc": table, "homogeneity": homogeneity}


def paired_p(effects: list[float]) -> float:
    """One-sided paired t-test p-value of mean effect > 0 (NaN with fewer than 2 repeats or no spread)."""
    if len(effects) < 2:
        return float("nan")
    from scipy import stats

    sd = float(np.std(effects, ddof=1))
    if sd == 0:
        return 0.0 if np.mean(effects) > 0 else 1.0
    t = float(np.mean(effects)) / (sd / math.sqrt(len(effects)))
    return float(stats.t.sf(t, len(effects) - 1))


def _finding(fid: str, statement: str, a: tuple[str, list[float]], b: tuple[str, list[float]], extra: dict,
             gap: list[float] | None = None, require_most: bool = False) -> dict:  # fmt: skip
    effects = [x - y for x, y in zip(a[1], b[1], strict=True)]
    summary = mean_spread(effects)
    holds = summary["mean"] > 0 and summary["mean"] > 2 * summary["spread"]
    out = {
        "id": fid,
        "statement": statement,
        "holds": bool(holds),
        "effect": summary["mean"],
        "spread": summary["spread"],
        "effects": summary["values"],
        "repeats": len(effects),
        "rule": "mean effect > 0 and > 2 x spread (sample std of the paired per-repeat effects)",
        "paired_t_p_one_sided": paired_p(effects),
        "compares": {a[0]: mean_spread(a[1]), b[0]: mean_spread(b[1])},
        **extra,
    }
    if gap is not None:
        mean_gap = float(np.mean(gap))
        closed = summary["mean"] / mean_gap if mean_gap > 0 else float("nan")
        out["gap"] = mean_gap
        out["fraction_of_gap_closed"] = closed
        if require_most:
            out["holds"] = bool(holds and closed >= 0.5)
            out["rule"] += "; and at least half of the faces/digits gap closed"
    return out


def findings(repeats: list[dict]) -> list[dict]:
    """The five findings of the main condition (U-Net PCCs; the baselines beside them under `baselines`)."""

    def pcc(train: str, test: str, method: str = "unet") -> list[float]:
        return [r["pcc"][train][test][method] for r in repeats]

    def baselines(*pairs: tuple[str, str]) -> dict:
        return {"baselines": {f"{tr} -> {te}": {m: mean_spread(pcc(tr, te, m)) for m in METHODS[1:]}
                              for tr, te in pairs}}  # fmt: skip

    fd, df = (
        ("faces -> digits", pcc("train_faces", "test_digits")),
        ("digits -> faces", pcc("train_digits", "test_faces")),
    )
    gap = [x - y for x, y in zip(fd[1], df[1], strict=True)]
    diverse = ("diverse digits -> faces", pcc("train_digits_diverse", "test_faces"))
    homog = ("homogenised digits -> faces", pcc("train_digits_homogenised", "test_faces"))
    in_region = ("digits -> digits, training region", pcc("train_digits", "test_digits"))
    shifted = ("digits -> digits, other region", pcc("train_digits", "test_digits_shifted"))
    random_shifted = ("random-placement net -> digits, other region", pcc("train_digits_random", "test_digits_shifted"))
    random_in = pcc("train_digits_random", "test_digits")
    return [
        _finding("faces_vs_digits", "a faces net reconstructs digits better than a digits net reconstructs faces",
                 fd, df, baselines(("train_faces", "test_digits"), ("train_digits", "test_faces"))),
        _finding("diversity_closes_gap", "enlarged, intensity-jittered digits close part of the faces/digits gap",
                 diverse, df, baselines(("train_digits_diverse", "test_faces")), gap=gap),
        _finding("homogeneity_closes_gap", "homogenised digits close most of the faces/digits gap",
                 homog, df, baselines(("train_digits_homogenised", "test_faces")), gap=gap, require_most=True),
        _finding("region_shift_fails", "a net trained in one DMD region fails in the other",
                 in_region, shifted,
                 baselines(("train_digits", "test_digits"), ("train_digits", "test_digits_shifted"))),
        _finding("random_placement_generalizes", "a net trained on digits placed at random works in the other region",
                 random_shifted, shifted,
                 {"random_net_in_training_region": mean_spread(random_in),
                  **baselines(("train_digits_random", "test_digits_shifted"))}),
    ]  # fmt: skip
