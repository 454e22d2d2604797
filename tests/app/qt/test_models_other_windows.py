"""A user model removed or renamed in one window while another window of the process uses
it: Remove is refused, a rename is followed; and a model made elsewhere (the command line)
is listed by an open window without any action there."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from unet_studio.app.errors import UserError
from unet_studio.app.host import FakeHost

pytestmark = pytest.mark.qt


def _names(panel) -> list[str]:
    return [panel.model_list.item(i).text() for i in range(panel.model_list.count())]


def _select(panel, ref: str) -> None:
    row = next(i for i in range(panel.model_list.count())
               if panel.model_list.item(i).data(256).ref == ref)
    panel.model_list.setCurrentRow(row)


@pytest.fixture
def windows(session_on, tmp_path, model_dir, qtbot):
    """Two windows (a session and its Models panel each) of one user; B uses "user:nuclei"
    with its project open, A uses the bundled default."""
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.models_panel import ModelsPanel

    home = tmp_path / "home"
    nuclei = ModelLibrary(home=home).import_model(model_dir, name="nuclei")
    made = {}
    for title in ("a", "b"):
        host = FakeHost()
        host.add_image(np.zeros((30, 30), np.float32), "YX", name="img")
        session = session_on(host, home)
        panel = ModelsPanel(session)
        qtbot.addWidget(panel)
        made[title] = SimpleNamespace(session=session, panel=panel, host=host)
    made["b"].session.open_project(tmp_path / "project-b", create=True)
    made["b"].session.set_model(nuclei.ref)
    return SimpleNamespace(nuclei=nuclei, **made)


def test_remove_is_refused_while_another_window_uses_the_model(windows):
    a, b = windows.a, windows.b
    _select(a.panel, "user:nuclei")
    with pytest.raises(UserError, match="nuclei is in use in another window"):
        a.panel.remove_selected()
    assert (windows.nuclei.path / "model.safetensors").is_file()
    b.session.set_model(b.session.library.default())  # B lets go of it: removed, B's list too
    a.panel.remove_selected()
    assert not windows.nuclei.path.exists()
    assert not any("nuclei  [user]" in text for text in _names(b.panel))


def test_remove_is_refused_while_work_runs_in_another_window(windows, qtbot):
    """(A copy in B, as a prediction or a round would, may be reading the model.)"""
    import threading

    a, b = windows.a, windows.b
    b.session.set_model(b.session.library.default())
    release = threading.Event()

    def reading():
        yield "copying"
        release.wait(20)

    b.panel._copy_in_worker(reading(), "Copying", "copying a model", lambda _result: None)
    _select(a.panel, "user:nuclei")
    try:
        with pytest.raises(UserError, match="cannot be removed while work runs"):
            a.panel.remove_selected()
        assert (windows.nuclei.path / "model.safetensors").is_file()
    finally:
        release.set()
        qtbot.waitUntil(lambda: b.panel.worker is None, timeout=10_000)


def test_a_rename_in_one_window_is_followed_by_the_other(windows):
    from unet_studio.app.project import Project

    a, b = windows.a, windows.b
    _select(a.panel, "user:nuclei")
    renamed = a.panel.rename_selected("nuclei lab")
    assert b.session.model.path == renamed.path
    assert b.panel.current_label.text() == "Current model: nuclei lab"
    assert "(current)  nuclei lab  [user]" in _names(b.panel)
    assert ("info", "your model nuclei was renamed to nuclei lab in another window") in \
        b.host.notifications
    project = b.session.project
    assert project.current_model == "user:nuclei-lab"
    assert project.flush(10)
    reopened = Project.open(project.path)
    try:
        assert reopened.current_model == "user:nuclei-lab"
    finally:
        reopened.close()


def test_a_model_made_elsewhere_is_listed_without_any_action(windows, qtbot):
    """``finetune -o`` from a terminal (or another process) saves into the user folder: the
    folder first, its config last, seconds later for a big model."""
    from unet_studio.app.qt.shared_watch import SETTLE_MS
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    folder = windows.a.session.library.home / "models" / "from-cli"
    folder.mkdir()
    qtbot.wait(3 * SETTLE_MS)  # (the lists refilled: no model there yet)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    save_model(net, folder, metadata={"name": "from cli"})
    qtbot.waitUntil(lambda: "from cli  [user]" in _names(windows.a.panel), timeout=5_000)
