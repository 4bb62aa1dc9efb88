"""The study's findings from its repeats, each stated for every method (the nets and ridge): an effect (a
difference of PCCs, paired within each repeat), its spread, and the verdict of lab/study/verdict.py.

| id | effect = A - B | a net "works": skill over the mean image also needed |
|---|---|---|
| faces_vs_digits | faces net on digits - digits net on faces | |
| diversity_closes_gap | diverse-digits net on faces - digits net on faces | |
| homogeneity_closes_gap | homogenised-digits net on faces - digits net on faces - half the faces/digits gap | yes |
| region_shift_fails | digits net in its region - digits net in the other region | |
| random_placement_generalizes | random-placement net in the other region - digits net there | yes |
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from speckle_lab.lab.study.common import Spread, spread_of
from speckle_lab.lab.study.methods import MEAN_IMAGE, RIDGE
from speckle_lab.lab.study.results import Finding, RepeatResult, Summary
from speckle_lab.lab.study.verdict import RULE, decide, skill

FINDING_IDS = (
    "faces_vs_digits",
    "diversity_closes_gap",
    "homogeneity_closes_gap",
    "region_shift_fails",
    "random_placement_generalizes",
)


def summarise(repeats: Sequence[RepeatResult]) -> Summary:
    """Means and spreads over repeats of every table of the repeats."""
    first = repeats[0]
    pcc = {
        train: {test: {m: spread_of([r.pcc[train][test][m] for r in repeats]) for m in row[test]} for test in row}
        for train, row in first.pcc.items()
    }
    homogeneity = {
        train: {k: spread_of([r.homogeneity[train][k] for r in repeats]) for k in values}
        for train, values in first.homogeneity.items()
    }
    oracle = {test: spread_of([r.oracle_pcc[test] for r in repeats]) for test in first.oracle_pcc}
    maps = {
        train: {
            m: {k: spread_of([r.maps[train][m].means[k] for r in repeats]) for k in per.means}
            for m, per in by_method.items()
        }
        for train, by_method in first.maps.items()
    }
    return Summary(pcc=pcc, homogeneity=homogeneity, oracle_pcc=oracle, maps=maps)


class _Reader:
    def __init__(self, repeats: Sequence[RepeatResult]) -> None:
        self.repeats = repeats

    def pcc(self, train: str, test: str, method: str) -> list[float]:
        return [r.pcc[train][test][method] for r in self.repeats]

    def baselines(self, *pairs: tuple[str, str]) -> dict[str, dict[str, Spread]]:
        out = {}
        for train, test in pairs:
            cell = {m: spread_of(self.pcc(train, test, m)) for m in (MEAN_IMAGE, RIDGE)}
            if all(test in r.oracle_pcc for r in self.repeats):
                cell["oracle"] = spread_of([r.oracle_pcc[test] for r in self.repeats])
            out[f"{train} -> {test}"] = cell
        return out


def _finding(
    fid: str,
    method: str,
    statement: str,
    a: tuple[str, list[float]],
    b: tuple[str, list[float]],
    baselines: dict,
    offset: list[float] | None = None,
    works: tuple[list[float], list[float]] | None = None,
) -> Finding:
    """`a` - `b` per repeat (minus `offset` when given); `works` = (the net's PCC, the mean image's) on the test
    where it must beat the mean image."""
    effects = [x - y for x, y in zip(a[1], b[1], strict=True)]
    if offset is not None:
        effects = [e - o for e, o in zip(effects, offset, strict=True)]
    skills = skill(*works) if works is not None else None
    decision = decide(effects, skills)
    summary = spread_of(effects)
    return Finding(
        id=fid,
        method=method,
        statement=statement,
        verdict=decision.verdict,
        holds=decision.verdict == "holds",
        effect=summary.mean,
        spread=summary.spread,
        effects=summary.values,
        repeats=len(effects),
        rule=RULE,
        reason=decision.reason,
        p_holds=decision.effect.p_greater,
        p_fails=decision.effect.p_less,
        interim=decision.interim,
        compares={a[0]: spread_of(a[1]), b[0]: spread_of(b[1])},
        baselines=baselines,
        skill=spread_of(skills) if skills is not None else None,
        p_skill=decision.skill.p_greater if decision.skill is not None else None,
    )


def findings_for(repeats: Sequence[RepeatResult], method: str) -> list[Finding]:
    """The five findings of the main condition for one method."""
    read = _Reader(repeats)

    def pcc(train: str, test: str, m: str = method) -> list[float]:
        return read.pcc(train, test, m)

    fd, df = pcc("train_faces", "test_digits"), pcc("train_digits", "test_faces")
    gap = [x - y for x, y in zip(fd, df, strict=True)]
    mean_gap = float(np.mean(gap))
    diverse, homog = pcc("train_digits_diverse", "test_faces"), pcc("train_digits_homogenised", "test_faces")
    in_region, shifted = pcc("train_digits", "test_digits"), pcc("train_digits", "test_digits_shifted")
    random_shifted = pcc("train_digits_random", "test_digits_shifted")
    out = [
        _finding(
            "faces_vs_digits",
            method,
            "a faces net reconstructs digits better than a digits net reconstructs faces",
            ("faces -> digits", fd),
            ("digits -> faces", df),
            read.baselines(("train_faces", "test_digits"), ("train_digits", "test_faces")),
        ),
        _finding(
            "diversity_closes_gap",
            method,
            "enlarged, intensity-fluctuating digits close part of the faces/digits gap",
            ("diverse digits -> faces", diverse),
            ("digits -> faces", df),
            read.baselines(("train_digits_diverse", "test_faces")),
        ),
        _finding(
            "homogeneity_closes_gap",
            method,
            "homogenised digits close at least half of the faces/digits gap, and reconstruct faces better than "
            "their mean image",
            ("homogenised digits -> faces", homog),
            ("digits -> faces", df),
            read.baselines(("train_digits_homogenised", "test_faces")),
            offset=[0.5 * g for g in gap],
            works=(homog, pcc("train_digits_homogenised", "test_faces", MEAN_IMAGE)),
        ),
        _finding(
            "region_shift_fails",
            method,
            "a net trained in one DMD region fails in the other",
            ("digits -> digits, training region", in_region),
            ("digits -> digits, other region", shifted),
            read.baselines(("train_digits", "test_digits"), ("train_digits", "test_digits_shifted")),
        ),
        _finding(
            "random_placement_generalizes",
            method,
            "a net trained on digits placed at random works in the other region: better than the region net "
            "there, and better than its mean image",
            ("random-placement net -> digits, other region", random_shifted),
            ("digits -> digits, other region", shifted),
            read.baselines(("train_digits_random", "test_digits_shifted")),
            works=(random_shifted, pcc("train_digits_random", "test_digits_shifted", MEAN_IMAGE)),
        ),
    ]
    for finding in out[1:3]:
        closed = [x - y for x, y in zip(diverse if finding.id == "diversity_closes_gap" else homog, df, strict=True)]
        finding.gap = mean_gap
        finding.fraction_of_gap_closed = float(np.mean(closed)) / mean_gap if mean_gap > 0 else math.nan
    return out


def findings(repeats: Sequence[RepeatResult], methods: Sequence[str]) -> list[Finding]:
    """Every finding for every method (nets and ridge; the mean image is a baseline, not a method)."""
    return [f for method in methods if method != MEAN_IMAGE for f in findings_for(repeats, method)]
