"""The session's offer of the project holding an image's earlier corrections
(``saved_work_offer``): made once per file, only while no project is open, withdrawn when
one opens; projects opened by hand are remembered for the next look, autosave ones not."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from unet_studio.app.host import FakeHost
from unet_studio.app.project import Project
from unet_studio.app.saved_work import recent_projects


@dataclass
class FileHost(FakeHost):
    """A FakeHost whose images come from a file (``source``)."""

    source: str | None = None

    def image_source(self, name=None):
        return self.source

    def select_image(self, name):
        pass


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def autosaved(home, tmp_path):
    """(image file, the autosave project that saved labels of it)."""
    image = tmp_path / "nuclei.tif"
    image.write_bytes(b"pixels")
    folder = home / "projects" / "nuclei-20261207-101500"
    with Project.create(folder, autosave_delay=0.01) as project:
        ref = project.add_image(str(image), axes="YX", name="nuclei")
        project.attach_labels(ref.id, np.ones((6, 6), np.int32), save=True)
    return image, folder


@pytest.fixture
def new_session(home, session_on):
    """``new_session(source)``: a session (the app started anew) on a host whose current
    image "nuclei" is read from ``source``."""

    def make(source):
        host = FileHost(source=str(source))
        host.add_image(np.zeros((6, 6), np.float32), "YX", name="nuclei")
        return session_on(host, home)

    return make


def offered(session) -> list[str]:
    return [m for _, m in session.host.notifications if "has corrections saved" in m]


def test_offered_once_per_file_and_withdrawn_when_a_project_opens(
        autosaved, new_session, tmp_path, qtbot):
    image, folder = autosaved
    session = new_session(image)
    session.select_image("nuclei")
    qtbot.waitUntil(lambda: bool(session.saved_work.found), timeout=2000)
    assert [work.project for work in session.saved_work.found] == [folder]
    assert len(offered(session)) == 1 and str(folder) in offered(session)[0]

    session.saved_work.dismiss()
    session.host.add_image(np.zeros((6, 6), np.float32), "YX", name="other")
    session.select_image("other")
    session.host.add_image(np.zeros((6, 6), np.float32), "YX", name="nuclei")
    session.select_image("nuclei")  # (the same file current again: asked once is enough)
    qtbot.wait(50)
    assert not session.saved_work.found and len(offered(session)) == 1

    again = new_session(image)  # (another start: offered again)
    again.select_image("nuclei")
    qtbot.waitUntil(lambda: bool(again.saved_work.found), timeout=2000)
    again.open_project(tmp_path / "mine", create=True)  # (another project, by hand)
    assert not again.saved_work.found  # (withdrawn)
    assert recent_projects(again.library.home) == [tmp_path / "mine"]


def test_no_offer_while_a_project_is_open(autosaved, new_session, tmp_path, qtbot):
    """As ``unet-studio gui FILE --project DIR``: the project opens before the event loop
    turns; nothing is offered over it, and the autosave project opened is not listed."""
    image, folder = autosaved
    session = new_session(image)
    session.select_image("nuclei")
    session.open_project(folder)
    qtbot.wait(50)
    assert not session.saved_work.found and not offered(session)
    assert recent_projects(session.library.home) == []


def test_a_new_project_started_over_the_offer_says_where_the_earlier_work_stays(
        autosaved, new_session, tmp_path, qtbot):
    """A Segment run or an edit before the offer is taken starts a new autosave project: the
    offer goes, and the user is told where the earlier corrections stay."""
    image, folder = autosaved
    session = new_session(image)
    session.select_image("nuclei")
    qtbot.waitUntil(lambda: bool(session.saved_work.found), timeout=2000)
    session.ensure_project()  # (what the first edit or a Segment run does)
    assert not session.saved_work.found
    told = [m for _, m in session.host.notifications if "earlier corrections" in m]
    assert told == [f"The earlier corrections of nuclei.tif stay in the project {folder}: "
                    "Correct panel > Open project... shows them."]
    session.open_project(folder)  # (the offered one, by hand: nothing more to say)
    assert len([m for _, m in session.host.notifications if "earlier corrections" in m]) == 1
