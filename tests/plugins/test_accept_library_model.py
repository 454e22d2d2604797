"""Accepting a round fine-tuned from a model of the user's library: the new model is the
project's, the library model is unchanged (byte for byte), and the status says so - a lab
sharing one model between projects took Accept for an update of that shared model."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.qt


@pytest.mark.slow
def test_accept_says_the_library_model_it_came_from_is_unchanged(corrected, studio_home,
                                                                 tiny_model_dir, qtbot, quick_round):  # fmt: skip
    from unet_studio.app.qt.train_panel import TrainPanel

    shared = studio_home / "models" / "lab-nuclei"
    shutil.copytree(tiny_model_dir, shared)
    weights_before = (shared / "model.safetensors").read_bytes()
    session = corrected.session
    session.set_model("user:lab-nuclei")
    shared_name = session.model.name  # (the name its config gives)
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    train = TrainPanel(session)
    qtbot.addWidget(train)
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round(max_steps=2))
    train.repredict_check.setChecked(False)
    train.accept_button.click()

    assert session.model.source == "project"
    project = session.project.path.name
    assert train.status.text() == (
        f"Now using {session.model.name}, saved in project {project}; {shared_name}"
        " in your models is unchanged for other projects and the command line.")
    assert (shared / "model.safetensors").read_bytes() == weights_before
