"""Model folders: safetensors + config.json, bit-identical round trips, clear errors."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from unet_studio.models.registry import build_model
from unet_studio.models.task import TaskSpec
from unet_studio.models.weights import load_model, save_model


def trained_a_little(net, shape, steps=2):
    """A couple of train-mode passes so BatchNorm running statistics move off their init."""
    net.train()
    with torch.no_grad():
        for _ in range(steps):
            net(torch.randn(2, net.in_channels, *shape) * 3 + 1)
    return net.eval()


@pytest.mark.parametrize("name, options, shape", [
    ("unet", dict(spatial_dims=2, depth=2), (32, 48)),
    ("resnet18_unet", dict(spatial_dims=3, base_channels=4, deep_supervision=True), (32, 32, 32)),
    ("unet_plus_plus", dict(spatial_dims=2, depth=2, padding="valid", up="linear"), (60, 60)),
    ("attention_unet", dict(spatial_dims=1, depth=3, skip_compress=True), (64,)),
])
def test_round_trip_is_bit_identical(tmp_path, name, options, shape):
    torch.manual_seed(0)
    net = trained_a_little(build_model(name, base_channels=options.pop("base_channels", 4),
                                       **options), shape)
    folder = save_model(net, tmp_path / "model")
    loaded = load_model(folder)
    assert loaded.name == net.name and loaded.config == net.config
    for key, value in net.state_dict().items():  # running stats included
        assert torch.equal(loaded.state_dict()[key], value), key
    x = torch.randn(1, net.in_channels, *net.valid_input_shape(shape))
    with torch.no_grad():
        assert torch.equal(loaded(x), net(x))
    assert not loaded.training


def test_config_json_follows_the_contract(tmp_path):
    net = build_model("residual_unet", base_channels=4, depth=2, out_channels=2)
    task = TaskSpec(kind="semantic", class_names=("background", "nucleus"))
    save_model(net, tmp_path, task=task, metadata={"card": "# Test model\n", "epochs": 3})
    document = json.loads((tmp_path / "config.json").read_text())
    assert document["format"] == "unet-studio-model" and document["format_version"] == 1
    assert document["architecture"] == {"name": "residual_unet", **net.config.to_dict()}
    assert document["task"] == task.to_dict()
    assert document["metadata"]["epochs"] == 3
    assert (tmp_path / "card.md").read_text() == "# Test model\n"
    loaded = load_model(tmp_path)
    assert loaded.task == task and loaded.metadata["epochs"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.md", "config.json",
                                                         "model.safetensors"]  # no temp files


def test_default_task_and_task_checks(tmp_path):
    net = build_model("unet", spatial_dims=3, base_channels=2, depth=1)
    save_model(net, tmp_path)
    assert load_model(tmp_path).task == TaskSpec(kind="instance", spatial_axes="ZYX")
    with pytest.raises(ValueError, match="3 output channels"):
        save_model(net, tmp_path, task=TaskSpec(kind="semantic", class_names=("a", "b")))


def test_half_precision_file_loads_into_float32(tmp_path):
    net = trained_a_little(build_model("unet", base_channels=4, depth=2), (32, 32))
    save_model(net, tmp_path, dtype=torch.float16)
    loaded = load_model(tmp_path)
    assert next(loaded.parameters()).dtype == torch.float32
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net(x), rtol=2e-2, atol=2e-2)


@pytest.fixture
def saved(tmp_path):
    net = build_model("unet", base_channels=2, depth=1)
    return save_model(net, tmp_path / "m")


def test_corrupt_weights_name_the_file(saved):
    path = saved / "model.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="model.safetensors"):
        load_model(saved)


def test_a_pickle_is_never_unpickled(saved):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    (saved / "model.safetensors").write_bytes(pickle.dumps({"w": Boom()}))
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        load_model(saved)


def test_weights_of_another_architecture_are_refused(saved):
    other = build_model("unet", base_channels=4, depth=1)
    save_model(other, saved.parent / "other")
    (saved / "model.safetensors").write_bytes((saved.parent / "other/model.safetensors").read_bytes())
    with pytest.raises(ValueError, match="wrong shape"):
        load_model(saved)


@pytest.mark.parametrize("edit, message", [
    (lambda d: "{not json", "not a readable JSON"),
    (lambda d: json.dumps({**d, "format": "keras"}), "not a unet-studio model"),
    (lambda d: json.dumps({**d, "format_version": 99}), "format_version 99"),
    (lambda d: json.dumps({**d, "architecture": {**d["architecture"], "name": "vgg"}}),
     "unknown model 'vgg'"),
    (lambda d: json.dumps({**d, "architecture": {**d["architecture"], "depth": 0}}),
     "depth must be"),
])
def test_bad_config_json_names_the_file(saved, edit, message):
    path = saved / "config.json"
    path.write_text(edit(json.loads(path.read_text())))
    with pytest.raises(ValueError, match=message) as error:
        load_model(saved)
    assert "config.json" in str(error.value)


def test_missing_files_are_value_errors(tmp_path, saved):
    with pytest.raises(ValueError, match="config.json"):
        load_model(tmp_path / "nowhere")
    (saved / "model.safetensors").unlink()
    with pytest.raises(ValueError, match="weights file is missing"):
        load_model(saved)
