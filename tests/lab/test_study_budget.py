"""`study budget`: the ladder, the light levels, the crossover rule, and a tiny run end to end."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from speckle_lab.lab.cli import main
from speckle_lab.lab.study.budget import (
    BUDGET_JSON,
    TESTS,
    TRAINING,
    BudgetResults,
    budget_design,
    crossovers,
    ladder,
    run_budget,
)
from speckle_lab.lab.study.methods import RIDGE, methods, net_kinds


@pytest.fixture(autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_the_ladder_doubles_from_250_and_quick_has_two_light_levels_100x_apart() -> None:
    assert ladder(1000) == (250, 500, 1000) and ladder(3000) == (250, 500, 1000, 2000) and ladder(250) == (250,)
    quick, full = budget_design(quick=True), budget_design(quick=False)
    assert quick.ladder == (250, 500, 1000) and full.ladder[-1] == 2000 and quick.repeats >= 3
    assert len(quick.powers_w) == 2 and quick.powers_w[0] / quick.powers_w[1] == pytest.approx(100)
    plans = dict(quick.plans(quick.powers_w[1]))
    assert {p.laser_power_w for p in plans.values()} == {quick.powers_w[1]}
    assert plans["train_digits"].n_frames == 1000 and plans["test_digits"].target_offset == 4000


def test_a_net_passes_ridge_at_the_first_rung_where_the_rule_says_so() -> None:
    design = dataclasses.replace(budget_design(quick=True), powers_w=(0.05,))
    values = {}
    for key in TRAINING:
        for test in TESTS:
            for n in design.ladder:
                ahead = 0.2 if n >= 500 else -0.1  # the net passes ridge from 500 frames on
                values[key, test, 0.05, n, RIDGE] = [0.5, 0.52, 0.51]
                for net in net_kinds():
                    values[key, test, 0.05, n, net] = [0.5 + ahead, 0.53 + ahead, 0.5 + ahead]
    found = crossovers(design, values, methods())
    assert len(found) == len(TRAINING) * len(TESTS) * len(net_kinds())
    assert all(c.passes_at == 500 and c.verdicts[250] == "fails" for c in found)


def test_a_tiny_budget_study_writes_its_cells_crossovers_and_report(tmp_path: Path) -> None:
    design = dataclasses.replace(
        budget_design(quick=True),
        ladder=(16, 32),
        n_test=8,
        repeats=2,
        train=budget_design(quick=True).train.model_copy(update={"epochs": 1}),
        net_layers={"depth": 2, "base_width": 4},
        bench_changes={**budget_design(quick=True).bench_changes, "camera": {"rows": 32, "cols": 32}},
    )
    results = run_budget(design, tmp_path, log=lambda _: None)
    stored = BudgetResults.model_validate(json.loads((tmp_path / BUDGET_JSON).read_text()))
    assert stored.ladder == [16, 32] and len(stored.powers_w) == 2
    expected = len(TRAINING) * len(TESTS) * 2 * 2 * len(methods())
    assert len(stored.cells) == expected and all(len(c.pcc.values) == 2 for c in stored.cells)
    assert {c.passes_at for c in results.crossovers} == {None}  # two repeats never decide
    assert set(stored.regimes) == {f"{p:g}" for p in design.powers_w}
    low, high = (stored.regimes[f"{p:g}"].photons_per_pixel["train_digits"] for p in sorted(design.powers_w))
    assert high == pytest.approx(100 * low, rel=0.02)
    report = (tmp_path / "report.md").read_text()
    assert "## Where a net passes ridge" in report and (tmp_path / "budget.png").exists()


def test_the_command_refuses_a_ladder_without_a_rung(capsys) -> None:
    assert main(["study", "budget", "--max-frames", "100", "--out", "unused"]) == 2
    assert "--max-frames 100" in capsys.readouterr().err
