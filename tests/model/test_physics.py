"""The physics-first net: its linear stage starts as ridge on its own training frames (under either input
normalisation), the net starts as its linear stage, the best checkpoint is never worse on validation than that
start, and the dense stage stays within its weight budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from model_helpers import tiny_config

from speckle_lab.model.config import PhysicsConfig
from speckle_lab.model.data import prepare_data
from speckle_lab.model.evaluate import load_trained
from speckle_lab.model.metrics import pcc
from speckle_lab.model.physics import KIND, PhysicsNet, plan_physics, pooling_factor
from speckle_lab.model.ridge import fit_ridge
from speckle_lab.model.sources import ArraySource
from speckle_lab.model.trainer import train

SMALL = PhysicsConfig(depth=2, base_width=8, kernel_size=5)
FLOAT32_ATOL = 1e-4  # predictions of order 1 from 1024-term float32 dot products, against float64 ridge


def initialised(source: ArraySource, normalisation: str) -> tuple[PhysicsNet, object]:
    config = tiny_config(model=SMALL, normalisation=normalisation)
    data = prepare_data(source, config)
    torch.manual_seed(0)
    net = KIND.build(KIND.plan(config.model, source.speckle_shape, source.target_shape))
    record = KIND.initialise(net, data, config)
    assert record["frames"] == len(data.split.train) and record["dense_inputs"] == 32 * 32
    return net.eval(), data


@pytest.mark.parametrize("normalisation", ["per_frame", "dataset"])
def test_the_initialised_linear_stage_predicts_what_ridge_predicts(blobs: ArraySource, normalisation: str) -> None:
    """Per frame: ridge of standardised frames. Dataset: an affine map of the counts, which ridge with a strength
    relative to the data's own scale (and an intercept) does not see: ridge of the raw counts."""
    net, data = initialised(blobs, normalisation)
    speckle, target = blobs.read(0, blobs.n_frames)
    train_rows, test_rows = data.split.train, data.split.test
    ridge = fit_ridge(speckle[train_rows], target[train_rows], per_frame=normalisation == "per_frame")
    x = data.normalisation.apply(torch.from_numpy(speckle[test_rows])).unsqueeze(1)
    with torch.no_grad():
        linear, whole = net.linear(x)[:, 0].numpy(), net(x)[:, 0].numpy()
    expected = ridge.predict(speckle[test_rows])
    np.testing.assert_allclose(linear, expected, atol=FLOAT32_ATOL)
    np.testing.assert_array_equal(whole, linear)  # the residual starts at zero: the net starts as ridge
    assert pcc(torch.from_numpy(linear), torch.from_numpy(target[test_rows])).mean() > 0.5  # a real fit


def test_the_best_checkpoint_is_never_worse_than_the_ridge_start(blobs: ArraySource, tmp_path: Path) -> None:
    """Adam at learning rate 1 wrecks both stages at the first step: no epoch beats the start on validation, so
    the saved best is the initialisation, and it reconstructs as ridge does."""
    config = tiny_config(epochs=2, lr=1.0, model=SMALL, normalisation="per_frame")
    result = train(config, blobs, tmp_path, show_progress=False)
    start, *trained = result.history
    assert start["epoch"] == 0 and all(h["val_pcc"] < start["val_pcc"] for h in trained)
    assert result.best_epoch == 0 and result.best_val_pcc == start["val_pcc"]
    best = load_trained(tmp_path, "cpu")
    assert best.epoch == 0
    speckle, target = blobs.read(0, blobs.n_frames)
    ridge = fit_ridge(speckle[best.split.train], target[best.split.train], per_frame=True)
    test = best.split.test
    np.testing.assert_allclose(best.predict(speckle[test]), ridge.predict(speckle[test]), atol=FLOAT32_ATOL)
    val = best.split.val
    ridge_val = pcc(torch.from_numpy(ridge.predict(speckle[val])), torch.from_numpy(target[val])).mean()
    assert start["val_pcc"] == pytest.approx(float(ridge_val), abs=1e-5)  # epoch 0 is ridge's validation score
    assert load_trained(tmp_path, "cpu", checkpoint="last.pt").epoch == 2


def test_the_best_is_the_validation_maximum_over_the_start_and_every_epoch(blobs: ArraySource, tmp_path: Path) -> None:
    result = train(tiny_config(epochs=2, model=SMALL), blobs, tmp_path, show_progress=False)
    values = [h["val_pcc"] for h in result.history]
    assert [h["epoch"] for h in result.history] == [0, 1, 2]
    assert result.best_epoch == int(np.argmax(values)) and load_trained(tmp_path, "cpu").epoch == result.best_epoch


def test_the_dense_stage_keeps_within_its_weight_budget() -> None:
    assert pooling_factor((64, 64), 144, 2**26) == 1  # the demo: 590k weights, no pooling
    assert pooling_factor((256, 256), 64 * 64, 2**26) == 2  # the reference scale: 128 x 128 inputs
    assert pooling_factor((256, 256), 64 * 64, 2**22 - 1) == 9  # 8 gives 32 x 32 x 4096 = 2^22: one too many
    shape = plan_physics(PhysicsConfig(max_dense_weights=2**22), (256, 256), (64, 64))
    assert shape.dense_input_shape == (32, 32)
    net = PhysicsNet(shape)
    assert net.dense.weight.numel() == 2**22
    assert net(torch.randn(2, 1, 256, 256)).shape == (2, 1, 64, 64)
    with pytest.raises(ValueError, match="below one weight per target pixel"):
        pooling_factor((64, 64), 144, 100)
    with pytest.raises(ValueError, match="too small for a 3-level refining U-Net"):
        plan_physics(PhysicsConfig(depth=3), (64, 64), (3, 3))


def test_the_dense_stage_steps_at_its_own_rate() -> None:
    config = tiny_config(lr=2e-3, model=PhysicsConfig(depth=2, base_width=8, kernel_size=5, dense_lr_factor=0.05))
    net = KIND.build(KIND.plan(config.model, (32, 32), (16, 16)))
    dense, rest = KIND.parameter_groups(net, config)
    assert dense["lr"] == pytest.approx(1e-4) and "lr" not in rest
    assert {id(p) for p in dense["params"]} == {id(net.dense.weight), id(net.dense.bias)}
    assert len(dense["params"]) + len(rest["params"]) == len(list(net.parameters()))


def test_the_ridge_start_subsamples_training_frames_beyond_its_memory_bound(
    blobs: ArraySource, monkeypatch: pytest.MonkeyPatch
) -> None:
    import speckle_lab.model.physics as physics

    monkeypatch.setattr(physics, "INIT_MAX_VALUES", 100 * 32 * 32)  # room for 100 frames of 1024 dense inputs
    config = tiny_config(model=SMALL, normalisation="per_frame")
    data = prepare_data(blobs, config)
    net = KIND.build(KIND.plan(config.model, blobs.speckle_shape, blobs.target_shape))
    assert len(data.split.train) > 100 and KIND.initialise(net, data, config)["frames"] == 100
