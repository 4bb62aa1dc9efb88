"""`speckle-lab targets` behaviour, through `run_targets` (the lead wires it into the command)."""

from __future__ import annotations

import io

from speckle_lab.acquisition.targets import PlacementSpec
from speckle_lab.acquisition.targets.cli import run_targets


def _run(*args, **kwargs) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_targets(*args, out=out, err=err, **kwargs)
    return code, out.getvalue(), err.getvalue()


def test_lists_sources_without_a_spec() -> None:
    code, out, _ = _run(None)
    assert code == 0
    for syntax in ("mnist:PATH", "lfw:PATH", "folder:PATH", "natural", "blobs", "binary", "mix:"):
        assert syntax in out


def test_describes_a_source_and_prints_stats() -> None:
    code, out, err = _run("digits", stats=True, n=300, seed=1)
    assert code == 0 and err == ""
    assert "digits (scikit-learn, 1797 digits of 8x8)" in out and "first of 8x8 pixels" in out
    for key in ("n_targets", "intrinsic_dimension_mle", "intensity_entropy_bits"):
        assert key in out
    assert "coverage_" not in out


def test_stats_with_placement_on_the_dmd() -> None:
    placement = PlacementSpec(mode="random", scale_max=1.5)
    code, out, _ = _run("lfw", stats=True, n=50, side_macropixels=64, placement=placement, shape=(25, 25))
    assert code == 0 and "coverage_lit_fraction" in out


def test_bad_spec_is_one_line_and_exit_2() -> None:
    code, out, err = _run("mnist:/no/such/place", stats=True)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("speckle-lab: error: target source 'mnist:/no/such/place'")
