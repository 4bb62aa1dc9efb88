"""Analyses of trained nets of every model kind: what each level represents (intrinsic dimension d_repr, linear probes
towards the target on in-distribution and out-of-distribution data) and the tunnel read from the probes."""

from speckle_lab.model.analysis.dimension import representation_dimensions
from speckle_lab.model.analysis.features import LEVEL_POOL, FeatureHooks, extract_features, level_names
from speckle_lab.model.analysis.probes import ProbeCurves, fit_ridge_probe, probe_levels, tunnel_start

__all__ = [
    "LEVEL_POOL",
    "FeatureHooks",
    "ProbeCurves",
    "extract_features",
    "fit_ridge_probe",
    "level_names",
    "probe_levels",
    "representation_dimensions",
    "tunnel_start",
]
