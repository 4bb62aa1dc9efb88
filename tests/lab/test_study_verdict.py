"""The verdict rule: one-sided t-tests through scipy, three verdicts, the mean-image requirement for a net that
works, and quick (the first three repeats) never contradicted by full."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from speckle_lab.lab.study.verdict import ALPHA, INTERIM_REPEATS, MIN_EFFECT, OPPOSITE, decide, one_sided, skill


def test_the_tests_are_scipys_one_sided_t_tests_against_the_smallest_effect() -> None:
    effects = [0.11, 0.07, 0.15, 0.09]
    test = one_sided(effects, MIN_EFFECT)
    assert test.p_greater == pytest.approx(stats.ttest_1samp(effects, MIN_EFFECT, alternative="greater").pvalue)
    assert test.p_less == pytest.approx(stats.ttest_1samp(effects, MIN_EFFECT, alternative="less").pvalue)
    assert test.p_greater + test.p_less == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("effects", "verdict"),
    [
        ([0.30, 0.28, 0.33], "holds"),  # clearly above the smallest effect
        ([-0.20, -0.25, -0.18], "fails"),  # clearly the other way
        ([0.004, 0.006, 0.005], "fails"),  # positive, but significantly below what the study calls an effect
        ([0.30, -0.20, 0.10], "undecided"),  # too much spread for three repeats
        ([0.30, 0.31], "undecided"),  # two repeats never decide
        ([0.25, 0.25, 0.25], "holds"),  # no spread: exact
    ],
)
def test_three_verdicts(effects: list[float], verdict: str) -> None:
    decision = decide(effects)
    assert decision.verdict == verdict
    assert decision.effect.n == len(effects)


def test_a_net_that_works_must_also_beat_the_mean_image() -> None:
    """A large effect over another net is not enough when the net is no better than the constant mean image."""
    effects = [0.30, 0.32, 0.29]
    below_mean = skill([0.55, 0.56, 0.57], [0.62, 0.63, 0.62])
    above_mean = skill([0.85, 0.86, 0.87], [0.62, 0.63, 0.62])
    assert all(s < 0 for s in below_mean) and all(s > 0 for s in above_mean)
    assert decide(effects, below_mean).verdict == "fails"
    assert decide(effects, above_mean).verdict == "holds"
    assert decide(effects, [0.2, -0.3, 0.1]).verdict == "undecided"  # skill unclear: not decided either way
    assert skill([1.0], [1.0]) != skill([1.0], [1.0])  # a perfect mean image leaves no skill to measure: NaN


def test_the_full_study_never_says_the_opposite_of_its_first_three_repeats_the_quick_study() -> None:
    """Over many random studies of 5 repeats, wherever the first 3 decide, the 5 never decide the other way; and
    a reversal is reported as undecided with the interim verdict beside it."""
    rng = np.random.default_rng(0)
    decided_both = 0
    for _ in range(300):
        effects = list(rng.normal(rng.uniform(-0.1, 0.15), rng.uniform(0.005, 0.2), 5))
        quick, full = decide(effects[:INTERIM_REPEATS]), decide(effects)
        assert full.interim == quick.verdict
        assert OPPOSITE.get(quick.verdict) != full.verdict
        decided_both += quick.verdict != "undecided" and full.verdict != "undecided"
    assert decided_both > 50  # the rule still decides most clear cases
    reversal = decide([0.30, 0.31, 0.29, -0.9, -0.95, -1.0, -0.92, -0.97, -0.99, -0.94])
    assert reversal.interim == "holds" and reversal.verdict == "undecided" and "first 3" in reversal.reason


def test_alpha_and_smallest_effect_are_the_documented_ones() -> None:
    """Fixed before any run (docs/study.md): changing them is a change of the rule, not a tuning."""
    assert (ALPHA, MIN_EFFECT, INTERIM_REPEATS) == (0.05, 0.02, 3)
