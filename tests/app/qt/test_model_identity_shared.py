"""A project copied from user A to user B names its models by refs ("user:nuclei-A"). At B
an unrelated model may have that name: the ref must still mean A's model (found where B has
it: the project's models, or an imported copy "user:nuclei-A-2"), or be told missing;
never B's model of the same name. Two studio homes, as two users."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from unet_studio.app.host import FakeHost

pytestmark = pytest.mark.qt


def _save(folder: Path, *, spatial_dims: int, seed: int) -> Path:
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(seed)
    net = build_model("unet", spatial_dims=spatial_dims, base_channels=4, depth=2)
    return save_model(net, folder, metadata={"name": folder.name})


@pytest.fixture
def homes(tmp_path, monkeypatch) -> dict[str, Path]:
    """Two users' homes, each with a model "nuclei-A": A's 2D one, B's unrelated 3D one."""
    homes = {user: tmp_path / f"home-{user}" for user in "AB"}
    _save(homes["A"] / "models" / "nuclei-A", spatial_dims=2, seed=1)
    _save(homes["B"] / "models" / "nuclei-A", spatial_dims=3, seed=2)
    monkeypatch.setenv("UNET_STUDIO_HOME", str(homes["B"]))  # (a library made without a home)
    return homes


@pytest.fixture
def open_session(session_on):
    """Sessions of one user (their home), closed at the end."""

    def make(home: Path):
        host = FakeHost()
        host.add_image(np.zeros((30, 30), np.float32), "YX", name="img")
        return session_on(host, home)

    return make


def _project_of_a(open_session, homes, tmp_path, save_round=None) -> Path:
    """A's project (nuclei-A current, or a round fine-tuned from it), copied to B."""
    a = open_session(homes["A"])
    a.open_project(tmp_path / "project", create=True)
    a.set_model("user:nuclei-A")
    if save_round is not None:
        a.set_model(save_round(a))
    a.close_project()
    return Path(shutil.copytree(tmp_path / "project", tmp_path / "copied to B"))


def _warnings(session) -> list[str]:
    return [message for level, message in session.host.notifications if level == "warning"]


def test_a_copied_project_never_makes_the_other_users_model_of_that_name_current(
        open_session, homes, tmp_path):
    copied = _project_of_a(open_session, homes, tmp_path)
    b = open_session(homes["B"])
    before = b.model
    b.open_project(copied)
    # (B's 3D nuclei-A is another model: the fallback of a removed model, and a warning)
    assert b.model == before
    told = [m for m in _warnings(b) if "user:nuclei-A" in m]
    assert len(told) == 1 and "not in this library" in told[0], _warnings(b)
    b.close_project()
    # A's model imported by B (under another name, its own being taken) is the one meant
    imported = b.library.import_model(homes["A"] / "models" / "nuclei-A")
    assert imported.ref == "user:nuclei-A-2"
    b.open_project(copied)
    assert b.model.path == imported.path


def test_an_old_project_without_identity_still_opens_its_model_by_ref(
        open_session, homes, tmp_path):
    copied = _project_of_a(open_session, homes, tmp_path)
    meta_path = copied / "project.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    meta.pop("current_model_identity", None)  # (as an earlier version wrote it)
    meta_path.write_text(json.dumps(meta), "utf-8")
    b = open_session(homes["B"])
    b.open_project(copied)
    assert b.model.path == homes["B"] / "models" / "nuclei-A"
    assert not _warnings(b)


def test_a_rounds_parent_of_another_users_name_is_not_offered_for_roll_back(
        open_session, homes, tmp_path, save_finished_round):
    from unet_studio.app.qt.train_versions import earlier_versions

    copied = _project_of_a(open_session, homes, tmp_path, save_finished_round)
    b = open_session(homes["B"])
    b.open_project(copied)
    assert b.model.source == "project"  # (the round, the project's own)
    chain = b.library.lineage(b.model.ref)
    assert [m.path for m in chain] == [b.model.path]
    assert chain[-1].parent == "user:nuclei-A"  # (named: the first missing ancestor)
    offered = [m.path for m in earlier_versions(b)]
    assert homes["B"] / "models" / "nuclei-A" not in offered
    # with A's model imported, the parent is recognised under its new name
    imported = b.library.import_model(homes["A"] / "models" / "nuclei-A")
    assert [m.path for m in b.library.lineage(b.model.ref)] == [b.model.path, imported.path]
    assert imported.path in [m.path for m in earlier_versions(b)]
