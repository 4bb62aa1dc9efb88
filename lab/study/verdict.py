"""The rule that decides a finding, fixed before any run: holds, fails or undecided.

A finding states that an effect (a difference of PCCs, paired within each repeat: same medium, training seed
and camera noise) is larger than `MIN_EFFECT`, the smallest difference of PCC the study calls an effect. With the
per-repeat effects e_1..e_n:

- **holds** when a one-sided t-test says the mean effect is above `MIN_EFFECT` at level `ALPHA`
  (`scipy.stats.ttest_1samp(e, MIN_EFFECT, alternative="greater").pvalue < ALPHA`);
- **fails** when the one-sided t-test the other way says it is below (`alternative="less"`);
- **undecided** otherwise (too few repeats, or too much spread, to tell).

A finding that a net "works" (reconstructs a set it was not trained for) also needs the net to beat the
mean-image baseline on that test: the per-repeat skill s = (PCC - PCC_mean) / (1 - PCC_mean) must be above 0 by
the same one-sided test; a skill significantly below 0 makes the finding fail.

Quick and full never contradict each other: the quick study is the first `INTERIM_REPEATS` repeats of the full
study's main condition (the same plans, seeds and training), so the full study can compute the quick verdict
itself. Its verdict on all its repeats stands unless it is the opposite of the verdict on those first
repeats; then it is undecided (an interim look and the final one that disagree, reported as such). Quick may say
undecided where full decides, never the opposite.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel

ALPHA = 0.05
MIN_EFFECT = 0.02  # PCC: the smallest difference the study calls an effect
INTERIM_REPEATS = 3  # the quick study's repeats, the first of the full study's
MIN_REPEATS = 3  # fewer repeats leave every finding undecided

Verdict = Literal["holds", "fails", "undecided"]
OPPOSITE: dict[str, str] = {"holds": "fails", "fails": "holds"}


class Test(BaseModel):
    """One-sided t-tests of the mean of `values` against `margin`, both ways."""

    margin: float
    n: int
    mean: float
    spread: float
    t: float
    p_greater: float  # p of "mean > margin"
    p_less: float  # p of "mean < margin"

    @property
    def verdict(self) -> Verdict:
        if self.n < MIN_REPEATS:
            return "undecided"
        if self.p_greater < ALPHA:
            return "holds"
        if self.p_less < ALPHA:
            return "fails"
        return "undecided"


def one_sided(values: list[float], margin: float) -> Test:
    """`scipy.stats.ttest_1samp` against `margin`, one-sided both ways. With no spread the test is exact:
    a mean above the margin has p_greater 0 (and p_less 1), and the other way round; equal, both 1."""
    from scipy import stats

    v = np.asarray(values, dtype=np.float64)
    n, mean = len(v), float(v.mean()) if len(v) else float("nan")
    spread = float(v.std(ddof=1)) if n > 1 else 0.0
    if n < 2 or not np.isfinite(mean):
        return Test(margin=margin, n=n, mean=mean, spread=spread, t=float("nan"), p_greater=1.0, p_less=1.0)
    if spread == 0:
        above, below = mean > margin, mean < margin
        t = float("inf") if above else float("-inf") if below else 0.0
        return Test(
            margin=margin,
            n=n,
            mean=mean,
            spread=0.0,
            t=t,
            p_greater=0.0 if above else 1.0,
            p_less=0.0 if below else 1.0,
        )
    greater = stats.ttest_1samp(v, margin, alternative="greater")
    p = float(greater.pvalue)  # the t distribution is continuous: p of "less" is 1 - p of "greater"
    return Test(margin=margin, n=n, mean=mean, spread=spread, t=float(greater.statistic), p_greater=p, p_less=1.0 - p)


def skill(pcc: list[float], pcc_mean: list[float]) -> list[float]:
    """(PCC - PCC_mean) / (1 - PCC_mean) per repeat: the share of what the mean image leaves that a method gets."""
    return [(a - b) / (1.0 - b) if b < 1 else float("nan") for a, b in zip(pcc, pcc_mean, strict=True)]


class Decision(BaseModel):
    verdict: Verdict
    effect: Test
    skill: Test | None = None
    interim: Verdict | None = None  # the verdict on the first INTERIM_REPEATS repeats (the quick study's)
    reason: str


def combine(effect: Test, skill_test: Test | None) -> tuple[Verdict, str]:
    """The effect's verdict, and for a "works" finding the skill's too: both must hold; either failing fails."""
    first = effect.verdict
    if skill_test is None:
        return first, f"effect {first}"
    second = skill_test.verdict
    if "fails" in (first, second):
        return "fails", f"effect {first}, skill over the mean image {second}"
    if first == second == "holds":
        return "holds", "effect and skill over the mean image hold"
    return "undecided", f"effect {first}, skill over the mean image {second}"


def decide(effects: list[float], skills: list[float] | None = None, margin: float = MIN_EFFECT) -> Decision:
    """The verdict on every repeat, kept unless the first `INTERIM_REPEATS` (the quick study) decided the
    opposite way: then undecided."""
    effect = one_sided(effects, margin)
    skill_test = one_sided(skills, 0.0) if skills is not None else None
    verdict, reason = combine(effect, skill_test)
    interim = None
    if len(effects) > INTERIM_REPEATS:
        first = one_sided(effects[:INTERIM_REPEATS], margin)
        first_skill = one_sided(skills[:INTERIM_REPEATS], 0.0) if skills is not None else None
        interim, _ = combine(first, first_skill)
        if OPPOSITE.get(interim) == verdict:
            verdict, reason = "undecided", f"{reason}, but the first {INTERIM_REPEATS} repeats said {interim}"
    return Decision(verdict=verdict, effect=effect, skill=skill_test, interim=interim, reason=reason)


RULE = (
    f"holds: one-sided t-test (scipy.stats.ttest_1samp, alternative='greater') of the paired per-repeat effects "
    f"above {MIN_EFFECT} PCC at p < {ALPHA}; fails: the same test the other way (alternative='less'); "
    f"undecided otherwise or with fewer than {MIN_REPEATS} repeats. A finding that a net works also needs its skill "
    f"over the mean image, (PCC - PCC_mean) / (1 - PCC_mean), above 0 by the same test. The verdict on all repeats "
    f"becomes undecided when the first {INTERIM_REPEATS} (the quick study) decided the opposite."
)
