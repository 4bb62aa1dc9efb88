"""`speckle-lab targets`: the list, a source's description and diversity, `--json`, and one-line refusals."""

from __future__ import annotations

import json

import pytest

from speckle_lab.acquisition.targets import PlacementSpec, open_source, source_stats
from speckle_lab.lab.cli import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["targets", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_lists_sources_without_a_spec(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys)
    assert code == 0
    for syntax in ("mnist:PATH", "lfw:PATH", "folder:PATH", "natural", "blobs", "binary", "mix:"):
        assert syntax in out
    code, out, _ = _run(capsys, "--json")
    assert code == 0 and "blobs[:size=64][:n=100000]" in [row["spec"] for row in json.loads(out)["sources"]]


def test_describes_a_source_and_prints_stats(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "digits", "--stats", "--n", "300", "--seed", "1")
    assert code == 0 and err == ""
    assert "digits (scikit-learn, 1797 digits of 8x8)" in out and "first of 8x8 pixels" in out
    for key in ("n_targets", "intrinsic_dimension_mle", "intensity_entropy_bits", "coverage_lit_fraction"):
        assert key in out


def test_stats_as_one_json_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "digits", "--stats", "--n", "300", "--seed", "1", "--json")
    document = json.loads(out)  # stdout is the document and nothing else
    assert code == 0 and err == ""
    assert document["spec"] == "digits" and document["n_images"] == 1797 and document["image_shape"] == [8, 8]
    assert document["stats"]["n_targets"] == 300 and document["stats"]["intrinsic_dimension_mle"] > 1


def test_stats_with_placement_on_the_dmd() -> None:
    placement = PlacementSpec(mode="random", scale_max=1.5)
    stats = source_stats(open_source("lfw"), 50, 0, (25, 25), side_macropixels=64, placement=placement)
    assert 0 < stats["coverage_lit_fraction"] <= 1


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (["mnist:/no/such/place", "--stats"], "target source 'mnist:/no/such/place'"),
        (["blobs", "--stats", "--n", "0"], "targets --n 0: expected at least 1"),
        (["blobs", "--stats", "--size", "0"], "targets --size 0: expected 1 to 64 macropixels"),
        (["blobs", "--stats", "--size", "100000", "--json"], "targets --size 100000: expected 1 to 64"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], start: str) -> None:
    code, out, err = _run(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"speckle-lab: error: {start}")
