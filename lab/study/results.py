"""The study's results as typed models: what results.json holds (docs/study.md, "results.json"), validated when
written and when read back."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from speckle_lab.lab.study.common import Spread
from speckle_lab.lab.study.verdict import Verdict

SCHEMA = "speckle-lab.study/2"

# train -> test -> method -> value
Table = dict[str, dict[str, dict[str, float]]]


class SpotMaps(BaseModel):
    """One method's single-spot maps over the active area: `quality` (PCC of its response with the disc shown)
    and `agreement` (PCC of its response with the oracle's; None without an oracle), and their region means."""

    quality: list[list[float]]
    agreement: list[list[float]] | None = None
    means: dict[str, float]  # quality_roi, quality_other, quality_all, agreement_roi, ...


class RepeatResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repeat: int
    medium_seed: int
    bench_seed: int
    training_seed: int
    pcc: Table
    homogeneity: dict[str, dict[str, float]]  # train -> strength, evenness, exercised_fraction, homogeneity, d_data
    maps: dict[str, dict[str, SpotMaps]] = Field(default_factory=dict)  # train -> method -> maps
    oracle_pcc: dict[str, float] = Field(default_factory=dict)  # test -> the oracle's PCC (prior-free, not a ceiling)
    fits: dict[str, dict[str, dict]] = Field(default_factory=dict)  # train -> method -> what its fit recorded
    curves: dict[str, dict[str, list[dict]]] = Field(default_factory=dict)  # train -> net -> per-epoch history
    seconds: dict[str, float] = Field(default_factory=dict)


class Summary(BaseModel):
    pcc: dict[str, dict[str, dict[str, Spread]]]  # train -> test -> method
    homogeneity: dict[str, dict[str, Spread]]
    oracle_pcc: dict[str, Spread] = Field(default_factory=dict)
    maps: dict[str, dict[str, dict[str, Spread]]] = Field(default_factory=dict)  # train -> method -> mean name


class ConditionResult(BaseModel):
    name: str
    label: str
    medium: dict
    train: dict
    plans: dict[str, dict]
    repeats: list[RepeatResult]
    summary: Summary


class Finding(BaseModel):
    """One finding for one method (docs/study.md, "Findings")."""

    id: str
    method: str
    statement: str
    verdict: Verdict
    holds: bool  # verdict == "holds"
    effect: float
    spread: float
    effects: list[float]
    repeats: int
    rule: str
    reason: str
    p_holds: float  # one-sided t-test p of effect > MIN_EFFECT
    p_fails: float  # one-sided t-test p of effect < MIN_EFFECT
    interim: Verdict | None = None  # the verdict on the first three repeats (the quick study's)
    compares: dict[str, Spread]
    baselines: dict[str, dict[str, Spread]]  # "TRAIN -> TEST" -> mean_image / ridge / oracle
    skill: Spread | None = None  # (PCC - PCC_mean) / (1 - PCC_mean), for a finding that a net works
    p_skill: float | None = None
    gap: float | None = None
    fraction_of_gap_closed: float | None = None


class RegionShiftRow(BaseModel):
    """The digits net (trained in the ROI) and the random-placement net, on unseen digits in the ROI and in the
    other region, for one medium and one method."""

    condition: str
    medium: str
    eta: float
    method: str
    repeats: int
    in_region: Spread
    other_region: Spread
    drop: Spread
    random_net_other_region: Spread | None = None
    mean_image_other_region: Spread | None = None
    verdict: Verdict  # of "a net trained in one region fails in the other" (drop > MIN_EFFECT)


class OracleRow(BaseModel):
    """A training set: its d_data and homogeneity, and each method's distance to the oracle."""

    train: str
    d_data: Spread
    homogeneity: Spread
    strength: Spread
    agreement: dict[str, Spread]  # method -> mean agreement with the oracle over the whole area
    agreement_roi: dict[str, Spread]  # ... over the target region
    quality_roi: dict[str, Spread]  # method -> mean single-spot PCC over the target region


class Regime(BaseModel):
    """Where the study sits: unknowns per speckle mode, photons per frame, frames per unknown."""

    target_unknowns: int  # macropixels of the target region
    area_unknowns: int  # macropixels of the active area (what the nets reconstruct)
    speckle_modes: int  # degrees of freedom of the speckle on the camera
    camera_pixels: int
    unknowns_per_mode: float  # target region / modes
    area_unknowns_per_mode: float
    training_frames: int  # per training set, validation excluded
    frames_per_unknown: float  # training frames per target-region macropixel
    photons_per_frame: dict[str, float]  # training set -> mean photons on the camera per frame
    photons_per_pixel: dict[str, float]
    laser_power_w: float
    exposure_us: float


class StudyResults(BaseModel):
    schema_: str = Field(SCHEMA, alias="schema")
    study: str
    methods: list[str]
    bench: dict
    regions: dict[str, list[int]]
    datasets: dict[str, dict]
    training: dict
    regime: Regime
    conditions: dict[str, ConditionResult]
    findings: list[Finding]
    region_shift: list[RegionShiftRow]
    oracle: list[OracleRow]
    notes: list[str]
    seconds: float
    cpu_seconds: float

    model_config = ConfigDict(populate_by_name=True)
