"""Looking up a model that is gone is cheap: the history of a project used for weeks names
hundreds of removed rounds, looked up at every panel refresh, and each miss listed every
model with its weights header checked (QA: 25 s per model change). The message still lists
them when it is shown."""

from __future__ import annotations

import pickle

import pytest

from unet_studio.app import model_library
from unet_studio.app.errors import UserError
from unet_studio.app.model_library import ModelLibrary


@pytest.fixture
def library(tmp_path, model_dir):
    import shutil

    models = tmp_path / "home" / "models"
    for name in ("round-1", "round-2"):
        shutil.copytree(model_dir, models / name)
    return ModelLibrary(home=tmp_path / "home")


def test_a_missing_model_checks_no_weights_until_its_message_is_read(library, tmp_path, monkeypatch):
    checked = []
    real = model_library.check_safetensors_header
    monkeypatch.setattr(model_library, "check_safetensors_header",
                        lambda path: checked.append(path) or real(path))
    for _ in range(50):  # (a history's removed rounds, looked up at a refresh)
        with pytest.raises(UserError):
            library.get(str(tmp_path / "models" / "removed-round"))
    assert checked == []

    with pytest.raises(UserError) as caught:
        library.get("removed-round")
    message = str(caught.value)
    assert message.startswith("no model 'removed-round'; choose one of: ")
    assert "user:round-1" in message and "user:round-2" in message
    assert len(checked) == len(library.list())  # (each model once, as the message is read)
    again = pickle.loads(pickle.dumps(caught.value))  # (as a worker process would send it)
    assert type(again) is UserError and str(again) == message
