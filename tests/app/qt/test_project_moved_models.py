"""A project folder moved while open: its models are listed, and the current one loads,
from where they are now."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.qt


def test_the_current_project_model_is_found_in_the_moved_folder(session):
    from unet_studio.app.qt.project_watch import ProjectWatch
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    host, project = session.host, session.project
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    save_model(net, project.models_dir / "round-1", metadata={"name": "round-1"})  # (accepted)
    session.set_model("project:round-1")
    listed = []
    session.models_listed.connect(lambda: listed.append(1))
    old = project.path
    moved = old.with_name(old.name + "-moved")
    os.rename(old, moved)
    try:
        ProjectWatch(session, interval_ms=60_000).tell()
        assert session.library.folders["project"] == moved / "models" and listed
        assert session.model.path == moved / "models" / "round-1"
        assert session.library.load(session.model.path) is not None
        assert any("moved to" in message for _, message in host.notifications)
    finally:
        session.close_project()
    assert not old.exists()
