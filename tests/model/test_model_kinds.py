"""Model kinds: one registry of names; every kind trains, checkpoints, resumes, reloads and is analysed the same
way; version-1 checkpoints (before kinds) load as the U-Net they hold; the best checkpoint follows the
selection metric; the reference preset is the reference recipe."""

from __future__ import annotations

import math
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
import torch
from model_helpers import tiny_config

from speckle_lab.model.analysis.features import extract_features, level_names
from speckle_lab.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from speckle_lab.model.config import MODEL_SETTINGS, ModelConfig, PhysicsConfig, SelectionMetric, TrainConfig
from speckle_lab.model.errors import ModelInputError
from speckle_lab.model.evaluate import evaluate, load_trained
from speckle_lab.model.metric_names import VALIDATION_METRICS
from speckle_lab.model.physics import PhysicsNet
from speckle_lab.model.presets import preset, preset_config
from speckle_lab.model.registry import KINDS, LEGACY_KIND, model_kind, settings_for
from speckle_lab.model.sources import ArraySource
from speckle_lab.model.trainer import EarlyStopping, train
from speckle_lab.model.unet import UNet

NET_CLASSES = {"unet": UNet, "physics": PhysicsNet}


def small_settings(kind: str) -> ModelConfig | PhysicsConfig:
    return settings_for(kind, depth=2, base_width=8, kernel_size=5)  # type: ignore[return-value]


def test_the_registry_owns_one_name_per_settings_class() -> None:
    assert list(KINDS) == [cls.model_fields["kind"].default for cls in MODEL_SETTINGS] == list(NET_CLASSES)
    for name in KINDS:
        assert model_kind(name).name == name
        assert isinstance(settings_for(name), KINDS[name].settings)
    with pytest.raises(ModelInputError, match=r"model kind 'resnet': unknown; expected one of unet, physics"):
        model_kind("resnet")
    assert set(get_args(SelectionMetric)) <= {str(m) for m in VALIDATION_METRICS}
    assert TrainConfig().model.kind == LEGACY_KIND  # settings without a kind are the U-Net's
    assert TrainConfig.model_validate({"model": {"depth": 2}}).model == ModelConfig(depth=2)
    with pytest.raises(ValueError, match="max_dense_weights"):  # one kind's field is refused on another
        TrainConfig.model_validate({"model": {"kind": "unet", "max_dense_weights": 100}})


@pytest.fixture(scope="module", params=list(KINDS))
def kind_run(request: pytest.FixtureRequest, blobs: ArraySource, tmp_path_factory: pytest.TempPathFactory):
    kind = request.param
    out = tmp_path_factory.mktemp(f"run-{kind}")
    result = train(tiny_config(epochs=1, model=small_settings(kind)), blobs, out, show_progress=False)
    return kind, out, result


def test_every_kind_round_trips_through_its_checkpoints(kind_run, blobs: ArraySource) -> None:
    kind, out, result = kind_run
    assert result.model_kind == kind
    ck = load_checkpoint(out / "last.pt")
    assert ck["model_kind"] == kind and ck["config"]["model"]["kind"] == kind
    trained = load_trained(out, "cpu", checkpoint="last.pt")
    assert trained.kind == kind and type(trained.model) is NET_CLASSES[kind]
    for name, tensor in trained.model.state_dict().items():
        assert torch.equal(tensor, ck["model"][name]), name
    speckle = blobs.read(0, 8)[0]
    again = load_trained(out, "cpu", checkpoint="last.pt").predict(speckle)
    np.testing.assert_array_equal(trained.predict(speckle), again)
    assert trained.predict(speckle).shape == (8, 16, 16)
    assert 0 < evaluate(out, blobs)["metrics"]["pcc"]["mean"] <= 1


def comparable(history: list[dict]) -> list[dict]:
    """History rows without their timings, NaN (epoch 0 has no training loss) as None so that rows compare."""
    return [{k: None if v != v else v for k, v in h.items() if k != "seconds"} for h in history]


def test_every_kind_resumes_to_the_uninterrupted_run(kind_run, blobs: ArraySource, tmp_path: Path) -> None:
    kind, out, _ = kind_run
    resumed_dir = tmp_path / "resumed"
    resumed_dir.mkdir()
    for name in ("last.pt", "best.pt"):
        (resumed_dir / name).write_bytes((out / name).read_bytes())
    config = tiny_config(epochs=2, model=small_settings(kind))
    resumed = train(config, blobs, resumed_dir, resume=True, show_progress=False)
    straight = train(config, blobs, tmp_path / "straight", show_progress=False)
    assert comparable(straight.history) == comparable(resumed.history)
    a = load_trained(resumed_dir, "cpu", "last.pt").model.state_dict()
    b = load_trained(tmp_path / "straight", "cpu", "last.pt").model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_every_kind_names_levels_for_the_analyses(kind_run, blobs: ArraySource) -> None:
    kind, out, _ = kind_run
    trained = load_trained(out, "cpu")
    unet_levels = ["enc0", "enc1", "dec0"]
    assert level_names(trained.model) == (["linear", *unet_levels] if kind == "physics" else unet_levels)
    speckle, target = blobs.read(0, 6)
    x = trained.normalisation.apply(torch.from_numpy(speckle)).unsqueeze(1)
    y = torch.from_numpy(target).unsqueeze(1)
    features, _, outputs = extract_features(trained.model, [(x, y)], torch.device("cpu"), pool=2)
    assert set(features) == set(level_names(trained.model))
    if kind == "physics":
        assert features["linear"].shape == (6, 4)  # one map, the linear estimate, pooled to 2 x 2
    np.testing.assert_allclose(outputs.reshape(6, 16, 16), trained.predict(speckle), atol=1e-6)


def _as_version_1(payload: dict) -> dict:
    """A checkpoint as the software before model kinds wrote it."""
    old = {k: v for k, v in payload.items() if k not in ("model_kind", "initialisation")}
    config = dict(old["config"])
    config.pop("selection_metric")
    config["min_dice_improvement"] = config.pop("min_improvement")
    config["model"] = {k: v for k, v in config["model"].items() if k != "kind"}
    old["config"] = config
    if "early_stopping" in old:
        early = dict(old["early_stopping"])
        early.pop("metric")
        early["best_val_dice"] = early.pop("best_value")
        old["early_stopping"] = early
    return {**old, "format_version": 1}


def test_version_1_checkpoints_load_and_resume_as_a_u_net_selected_on_dice(
    trained_run: Path, blobs: ArraySource, tmp_path: Path
) -> None:
    for name in ("best.pt", "last.pt"):
        payload = torch.load(trained_run / name, map_location="cpu", weights_only=True)
        torch.save(_as_version_1(payload), tmp_path / name)
    trained = load_trained(tmp_path, "cpu")
    assert trained.kind == "unet" and isinstance(trained.model, UNet)
    assert trained.config.selection_metric == "dice"
    speckle = blobs.read(0, 4)[0]
    np.testing.assert_array_equal(trained.predict(speckle), load_trained(trained_run, "cpu").predict(speckle))
    resumed = train(None, blobs, tmp_path, resume=True, show_progress=False)  # nothing left to do: 2 of 2 epochs
    assert (resumed.epochs_completed, resumed.selection_metric) == (2, "dice")


def test_checkpoints_without_or_with_an_unknown_kind_are_refused(trained_run: Path, tmp_path: Path) -> None:
    payload = torch.load(trained_run / "best.pt", map_location="cpu", weights_only=True)
    save_checkpoint(tmp_path / "nokind.pt", {k: v for k, v in payload.items() if k != "model_kind"})
    with pytest.raises(CheckpointError, match="incomplete checkpoint, missing model_kind"):
        load_checkpoint(tmp_path / "nokind.pt")
    save_checkpoint(tmp_path / "future.pt", {**payload, "model_kind": "transformer"})
    with pytest.raises(CheckpointError, match=r"a 'transformer' net, a model kind this software does not know"):
        load_checkpoint(tmp_path / "future.pt")


def test_the_best_checkpoint_follows_the_selection_metric(blobs: ArraySource, tmp_path: Path) -> None:
    for metric in ("pcc", "dice"):
        result = train(tiny_config(epochs=4, selection_metric=metric), blobs, tmp_path / metric, show_progress=False)
        values = [h[f"val_{metric}"] for h in result.history]
        assert result.best_epoch == 1 + int(np.argmax(values)) and result.selection_metric == metric
        assert load_trained(tmp_path / metric, "cpu").epoch == result.best_epoch
        best = result.history[result.best_epoch - 1]
        assert (result.best_val_pcc, result.best_val_dice) == (best["val_pcc"], best["val_dice"])


def test_early_stopping_counts_on_its_metric() -> None:
    early = EarlyStopping(patience=2, metric="pcc")
    assert early.update(0, 0.5) and not early.update(1, 0.5) and early.update(2, 0.6)
    assert not early.update(3, 0.59) and not early.update(4, 0.2) and early.exhausted
    assert (early.best_epoch, early.best_value) == (2, 0.6)
    assert EarlyStopping(patience=1).update(1, math.nan)  # no validation frames: every epoch is the best


def test_a_configuration_naming_no_loss_gets_its_kinds() -> None:
    assert TrainConfig().loss == "mse_dice"  # the U-Net: the reference study's MSE + Dice
    assert TrainConfig(model=PhysicsConfig()).loss == "mse_npcc"
    physics = TrainConfig.model_validate({"model": {"kind": "physics"}})
    assert physics.loss == "mse_npcc" and TrainConfig.model_validate(physics.model_dump()) == physics  # recorded
    assert TrainConfig.model_validate({"model": {"kind": "physics"}, "loss": "mse_dice"}).loss == "mse_dice"


def test_the_reference_preset_is_the_reference_recipe() -> None:
    config = preset_config("reference")
    assert (config.model.kind, config.model.kernel_size, config.loss, config.lr, config.epochs) == (
        "unet",
        7,
        "mse_dice",
        1e-4,
        50,
    )
    assert (config.selection_metric, config.patience_epochs) == ("dice", 10)
    default = TrainConfig()
    assert default.selection_metric == "pcc"
    different = {k for k, v in config.model_dump().items() if default.model_dump()[k] != v}
    assert different == {"selection_metric"}, "the default is the reference recipe but for what it stops on"
    physics = preset_config("reference", model={"kind": "physics"})
    assert isinstance(physics.model, PhysicsConfig) and physics.model.kernel_size == 7
    with pytest.raises(ModelInputError, match="preset 'fast': unknown; expected one of reference"):
        preset("fast")
