"""A model folder is checked before it becomes anyone's current model (the Segment panel's
Folder…, a library ref, the command line's --model DIR) as Import checks it: config valid,
weights a whole safetensors file of the config's network. From the header alone."""

from __future__ import annotations

import json
import re
import struct

import pytest

from unet_studio.app.errors import InputFileError
from unet_studio.app.model_library import ModelLibrary

FIRST_CONV = "encoder.levels.0.convs.0.conv.weight"  # (the tiny U-Net's input convolution)


@pytest.fixture()
def model(tmp_path):
    """A real model folder: a tiny 2D U-Net for 1-channel images."""
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    net = build_model("unet", spatial_dims=2, in_channels=1, base_channels=4, depth=2)
    return save_model(net, tmp_path / "tiny", metadata={"name": "tiny"})


@pytest.fixture()
def library(tmp_path):
    return ModelLibrary(home=tmp_path / "home", bundled_dir=tmp_path / "no-bundled")


def _edit_architecture(folder, **changes):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    config["architecture"].update(changes)
    path.write_text(json.dumps(config))


def test_a_config_for_5_channels_with_1_channel_weights_names_the_tensor(model, library):
    """Not taken for an image problem later ("takes 5 channels, the image has 1"): the
    weights do not fit the config, said of the weights file, naming the tensor; a Run (the
    library's load) says the same."""
    _edit_architecture(model, in_channels=5)
    with pytest.raises(InputFileError) as chosen:
        library.checked(str(model))
    assert chosen.value.path == model / "model.safetensors"
    assert "weights do not match the architecture in config.json" in chosen.value.problem
    assert f"{FIRST_CONV}: (4, 1, 3, 3) instead of (4, 5, 3, 3)" in chosen.value.problem
    with pytest.raises(InputFileError) as loaded:
        library.load(str(model))
    assert str(loaded.value) == str(chosen.value)


def test_the_check_reads_the_header_not_the_weights(model, library, monkeypatch):
    """Choosing a model of hundreds of MB must not load it (it is loaded at Run)."""
    import safetensors.torch

    def refuse(*args, **kwargs):
        raise AssertionError("the weights were loaded")

    monkeypatch.setattr(safetensors.torch, "load_file", refuse)
    monkeypatch.setattr(safetensors.torch, "load", refuse)
    assert library.checked(str(model)).name == "tiny"
    _edit_architecture(model, base_channels=8)
    with pytest.raises(InputFileError, match="wrong shape"):
        library.checked(str(model))


def test_an_unknown_config_key_is_refused_naming_config_json(model, library):
    _edit_architecture(model, bogus_key=1)
    with pytest.raises(InputFileError, match="unknown model option") as error:
        library.checked(str(model))
    assert error.value.path == model / "config.json"


def test_a_folder_without_config_is_said_to_be_no_model_folder(model, library):
    """As Import says it, not "no model '...'; choose one of: ..." (read as a typo)."""
    (model / "config.json").unlink()
    with pytest.raises(InputFileError, match=r"is not a model folder \(config.json missing\)"):
        library.checked(str(model))


def _rewrite(path, edit_header, extra: bytes = b"") -> None:
    """Rewrite a safetensors file with its header edited (and bytes appended)."""
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    edit_header(header)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + length:] + extra)


def _set(name, key, value):
    return lambda header: header[name].__setitem__(key, value)


@pytest.mark.parametrize("edit_header, extra, problem", [
    (lambda header: None, b"\0" * 8, "8 bytes after its last tensor"),
    (_set(FIRST_CONV, "dtype", "F64"), b"", f"truncated or damaged (tensor '{FIRST_CONV}')"),
    (_set(FIRST_CONV, "dtype", "Q9"), b"", f"truncated or damaged (tensor '{FIRST_CONV}')"),
    (_set(FIRST_CONV, "data_offsets", [0, 144]), b"", "is not where it should be"),
])  # fmt: skip
def test_a_damaged_header_is_refused_as_safetensors_refuses_it(model, edit_header, extra, problem):
    """Whatever safetensors would refuse at Run is refused when the folder is checked."""
    from safetensors.torch import load_file

    from unet_studio.app.model_folder import check_model_folder

    weights = model / "model.safetensors"
    _rewrite(weights, edit_header, extra)
    with pytest.raises(Exception):  # noqa: B017  (safetensors' own error types)
        load_file(str(weights))
    with pytest.raises(InputFileError, match=re.escape(problem)) as error:
        check_model_folder(model)
    assert error.value.path == weights
