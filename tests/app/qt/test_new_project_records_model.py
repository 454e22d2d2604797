"""A project made while a model is in use records it (project.json had no current model
until another model was chosen, so reopening the project fell back to the default)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from unet_studio.app.host import FakeHost

pytestmark = pytest.mark.qt


def test_a_new_project_records_the_model_in_use(tmp_path, monkeypatch, qapp):
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    host.add_image(np.zeros((30, 30), np.float32), "YX", name="img")
    session = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    tiny = save_model(net, tmp_path / "tiny", metadata={"name": "tiny"})
    session.set_model(str(tiny))  # (before any project)
    project = session.open_project(tmp_path / "project", create=True)
    assert project.flush(10)
    recorded = json.loads((tmp_path / "project" / "project.json").read_text())
    assert recorded["current_model"] == str(tiny)
    assert recorded["current_model_identity"] == json.loads(
        (tiny / "config.json").read_text())["weights_sha256"]
    session.close_project()

    again = StudioSession(FakeHost(), library=ModelLibrary(home=tmp_path / "home"))
    again.open_project(tmp_path / "project")
    assert again.model.path == tiny
    again.close_project()
