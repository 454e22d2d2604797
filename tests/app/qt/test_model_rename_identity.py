"""Renaming a model (model_actions.rename_model): the open project's current model follows
with its identity kept, so a later model of the old name is never taken for it; and a
project naming another user's model of that name is not pointed at the renamed one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from unet_studio.app.host import FakeHost

pytestmark = pytest.mark.qt


def _save(folder: Path, seed: int) -> Path:
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(seed)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    return save_model(net, folder, metadata={"name": folder.name})


@pytest.fixture
def session(qapp, tmp_path):
    """A session of a user with a model "nuclei-A", and a project open."""
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession

    home = tmp_path / "home"
    _save(home / "models" / "nuclei-A", seed=1)
    host = FakeHost()
    host.add_image(np.zeros((30, 30), np.float32), "YX", name="img")
    studio = StudioSession(host, library=ModelLibrary(home=home, bundled_dir=tmp_path / "none"))
    studio.open_project(tmp_path / "project", create=True)
    yield studio
    studio.close_project()


def test_a_renamed_current_model_keeps_its_identity_in_the_project(session):
    from unet_studio.app.model_identity import identity_of
    from unet_studio.app.qt import model_actions

    session.set_model("user:nuclei-A")
    identity = identity_of(session.model)
    assert session.project.current_model_identity == identity
    model_actions.rename_model(session, session.model, "nuclei-B")
    assert session.project.current_model == "user:nuclei-B"
    assert session.project.current_model_identity == identity


def test_a_project_naming_another_model_of_that_name_is_not_pointed_at_the_renamed_one(session):
    """(A project copied from user A: "user:nuclei-A" with A's identity, not this one's.)"""
    from unet_studio.app.qt import model_actions

    others = "ab" * 32
    session.project.set_current_model("user:nuclei-A", identity=others)
    model_actions.rename_model(session, session.library.get("user:nuclei-A"), "nuclei-B")
    assert (session.project.current_model, session.project.current_model_identity) == (
        "user:nuclei-A", others)
