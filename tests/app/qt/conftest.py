"""Fixtures of the Qt-side session tests (no viewer: a FakeHost)."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.host import FakeHost


@pytest.fixture
def session(tmp_path, monkeypatch, qapp):
    """A session with its autosave project and a tiny model (a folder) as current model."""
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    host.add_image(np.zeros((2, 30, 30), np.float32), "ZYX", name="img")
    session = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
    session.show_labels(np.zeros((2, 30, 30), np.int32))
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    session.set_model(str(save_model(net, tmp_path / "tiny", metadata={"name": "tiny"})))
    yield session
    session.close_project()


@pytest.fixture
def save_finished_round():
    """``save(session, parent=None)``: a finished round from ``parent`` (the current model)
    saved as the Train panel saves it: a model folder in the project's models, logged
    ("fine-tune", by its path) in its history, with its lineage; returns its ModelInfo."""
    from unet_studio.app.qt.train_round import TrainRound, save_round
    from unet_studio.models.registry import build_model
    from unet_studio.models.training.config import FinetuneConfig
    from unet_studio.models.training.progress import FinetuneResult

    def save(session, parent=None):
        result = FinetuneResult(
            net=build_model("unet", spatial_dims=2, base_channels=4, depth=2), history=[],
            metrics_before={}, metrics_after={}, config=FinetuneConfig(),
            data_summary={"examples": 1}, best_step=1, steps=1, elapsed=1.0,
            stopped="max_steps")
        round_ = TrainRound(parent=parent or session.model, pending=[], checkpoint_dir=None,
                            project=session.project, result=result)  # fmt: skip
        return session.library.get(save_round(session, round_))

    return save


@pytest.fixture
def session_on(qapp):
    """``session_on(host, home)``: a StudioSession on ``host`` with the studio home ``home``
    (a user, or the app started anew), its project closed at the end."""
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession

    sessions = []

    def make(host, home):
        session = StudioSession(host, library=ModelLibrary(home=home))
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close_project()


@pytest.fixture
def reopen_unwritable(monkeypatch):
    """``reopen_unwritable(session)``: reopen the session's project as if its folder could
    not be written (a read-only share), with an edit kept in memory; returns its folder."""
    from pathlib import Path

    from unet_studio.app import project_writable
    from unet_studio.app.label_edit import diff_labels

    def reopen(session) -> Path:
        path = session.project.path
        session.close_project()
        monkeypatch.setattr(project_writable, "write_problem",
                            lambda folder: "read-only file system" if Path(folder) == path else None)
        session.open_project(path)
        labels = session.host.current_labels()
        session.apply_edit(diff_labels(labels, np.where(labels == 0, 7, labels)))
        return path

    return reopen


@pytest.fixture
def slow_share(monkeypatch):
    """Reading files goes at 64 MB/s, 4 MB at a time (a network share): a 31 MB model's
    copy lasts about half a second (``os.sendfile``: shutil's copy and ours use it)."""
    import os
    import time

    sendfile = os.sendfile

    def slow(out_fd, in_fd, offset, count):
        sent = sendfile(out_fd, in_fd, offset, min(count, 4 << 20))
        time.sleep(sent / (64 << 20))
        return sent

    monkeypatch.setattr(os, "sendfile", slow)


@pytest.fixture
def locked(session, save_finished_round):
    """(the other window's project, the round in the project's models): the session's
    project, reopened while another window holds it, with an edit kept in memory."""
    from unet_studio.app.label_edit import diff_labels
    from unet_studio.app.project import Project

    round_ = save_finished_round(session)
    path = session.project.path
    session.close_project()
    other = Project.open(path, autosave_delay=0.0)  # (the other window: it writes)
    try:
        session.open_project(path)
        assert session.project.read_only and session.project.unwritable is None
        labels = session.host.current_labels()
        session.apply_edit(diff_labels(labels, np.where(labels == 0, 7, labels)))
        yield other, round_
    finally:
        other.close()


@pytest.fixture
def guarded_window(session, qtbot):
    """A shown window whose closing is asked about as the napari adapter asks about the
    viewer's (``CloseGuard`` with the session's project watch, its timer slowed)."""
    from qtpy.QtWidgets import QWidget

    from unet_studio.app.qt.close_guard import CloseGuard
    from unet_studio.app.qt.project_watch import ProjectWatch

    window = QWidget()
    qtbot.addWidget(window)
    watch = ProjectWatch(session, parent=window, interval_ms=60_000)
    CloseGuard(window, lambda: [watch])
    window.project_watch = watch  # (what the question asks about)
    window.show()
    qtbot.waitExposed(window)
    return window
