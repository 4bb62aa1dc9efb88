"""U-Net shapes: any speckle resolution to any target resolution, output in [0, 1]."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from speckle_lab.model.config import ModelConfig
from speckle_lab.model.unet import build_unet, plan_shape


@pytest.mark.parametrize(
    ("speckle", "target", "factor"),
    [((128, 128), (32, 32), 4), ((100, 90), (28, 20), 3), ((16, 16), (32, 32), 1), ((64, 48), (16, 16), 3)],
)
def test_any_speckle_to_any_target(speckle: tuple, target: tuple, factor: int) -> None:
    net = build_unet(ModelConfig(depth=3, base_width=4), speckle, target)
    assert net.shape.unshuffle_factor == factor
    out = net(torch.randn(2, 1, *speckle) * 5)
    assert out.shape == (2, 1, *target)
    assert out.min() >= 0 and out.max() <= 1


def test_defaults_are_the_reference_architecture() -> None:
    net = build_unet(ModelConfig(), (128, 128), (32, 32))
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size != (1, 1)]
    assert {m.kernel_size for m in convs} == {(7, 7)}
    assert (net.shape.depth, net.shape.base_width, net.shape.working_shape) == (3, 16, (32, 32))


def test_working_shape_and_kernel_checks() -> None:
    with pytest.raises(ValidationError, match="odd"):
        ModelConfig(kernel_size=6)
    with pytest.raises(ValueError, match="too small"):
        plan_shape(ModelConfig(depth=4, working_shape=(4, 4)), (64, 64), (16, 16))
    shape = plan_shape(ModelConfig(working_shape=(16, 16), unshuffle_factor=2), (64, 64), (32, 32))
    assert shape.to_dict()["working_shape"] == [16, 16]
    assert type(shape).from_dict(shape.to_dict()) == shape
