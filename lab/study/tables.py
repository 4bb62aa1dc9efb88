"""The study's summary tables across conditions: the region shift on every medium for every method, and each
training set's distance to the oracle beside its d_data and homogeneity."""

from __future__ import annotations

from speckle_lab.lab.study.common import spread_of
from speckle_lab.lab.study.methods import MEAN_IMAGE
from speckle_lab.lab.study.results import ConditionResult, OracleRow, RegionShiftRow
from speckle_lab.lab.study.verdict import decide


def medium_name(medium: dict) -> str:
    """The medium named for what it is: the thick random-matrix medium is no ground glass; the thin diffuser is."""
    if medium.get("kind") == "phase_screen":
        where = "behind a lens" if medium.get("geometry") == "fourier" else "against the DMD"
        return f"thin diffuser (ground glass) {where}"
    return "thick random-matrix medium"


def region_shift_rows(design, conditions: dict[str, ConditionResult], methods) -> list[RegionShiftRow]:
    """Per condition with the digits net and both digit tests, per method: in-region and other-region PCC, the
    drop and its verdict; the random-placement net and the mean image in the other region beside them."""
    rows = []
    for name, condition in conditions.items():
        reps = condition.repeats
        if not reps or "train_digits" not in reps[0].pcc:
            continue
        tests = reps[0].pcc["train_digits"]
        if "test_digits" not in tests or "test_digits_shifted" not in tests:
            continue
        for method in methods:
            if method == MEAN_IMAGE:
                continue
            inside = [r.pcc["train_digits"]["test_digits"][method] for r in reps]
            outside = [r.pcc["train_digits"]["test_digits_shifted"][method] for r in reps]
            drops = [a - b for a, b in zip(inside, outside, strict=True)]
            random_net = None
            if "train_digits_random" in reps[0].pcc:
                random_net = spread_of([r.pcc["train_digits_random"]["test_digits_shifted"][method] for r in reps])
            rows.append(
                RegionShiftRow(
                    condition=name,
                    medium=medium_name(condition.medium),
                    eta=float(condition.medium.get("ballistic_fraction", 0.0)),
                    method=method,
                    repeats=len(reps),
                    in_region=spread_of(inside),
                    other_region=spread_of(outside),
                    drop=spread_of(drops),
                    random_net_other_region=random_net,
                    mean_image_other_region=spread_of(
                        [r.pcc["train_digits"]["test_digits_shifted"][MEAN_IMAGE] for r in reps]
                    ),
                    verdict=decide(drops).verdict,
                )
            )
    return rows


def oracle_rows(main: ConditionResult, methods) -> list[OracleRow]:
    reps = main.repeats
    if not reps or not reps[0].maps:
        return []
    out = []
    for train in reps[0].pcc:
        maps = [r.maps[train] for r in reps]
        named = [x for x in methods if x != MEAN_IMAGE and x in maps[0]]
        out.append(
            OracleRow(
                train=train,
                d_data=spread_of([r.homogeneity[train]["d_data"] for r in reps]),
                homogeneity=spread_of([r.homogeneity[train]["homogeneity"] for r in reps]),
                strength=spread_of([r.homogeneity[train]["strength"] for r in reps]),
                agreement={x: spread_of([mp[x].means["agreement_all"] for mp in maps]) for x in named},
                agreement_roi={x: spread_of([mp[x].means["agreement_roi"] for mp in maps]) for x in named},
                quality_roi={x: spread_of([mp[x].means["quality_roi"] for mp in maps]) for x in named},
            )
        )
    return out
