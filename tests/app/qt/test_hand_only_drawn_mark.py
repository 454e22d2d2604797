"""A drawn region marked reviewed over objects the user painted, in an image nothing was
predicted in, warns what the mark teaches; over labels opened from a file (pixels the user
never painted: the image's labels came from somewhere), it does not."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

SQUARE_AT_Z0 = np.array([[0, 2, 2], [0, 2, 20], [0, 20, 20], [0, 20, 2]], float)


@pytest.fixture
def session_with(tmp_path, monkeypatch, qapp):
    """``session_with(labels)``: a session on a FakeHost showing a (2, 30, 30) ZYX image
    and ``labels`` as its labels (opened, not painted), with SQUARE_AT_Z0 drawn."""
    from unet_studio.app.host import FakeHost
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    sessions = []

    def make(labels: np.ndarray):
        host = FakeHost()
        host.add_image(np.zeros(labels.shape, np.float32), "ZYX", name=f"img{len(sessions)}")
        session = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
        session.show_labels(labels)
        host.drawn.append(SQUARE_AT_Z0.copy())
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close_project()


def test_a_drawn_region_over_painted_objects_only_warns(session_with):
    from unet_studio.app.label_edit import edit_from_region
    from unet_studio.app.qt.review_marks import mark_reviewed_drawn

    opened = np.zeros((2, 30, 30), np.int32)
    opened[1, 10:15, 10:15] = 7  # (a nucleus the file brought, in the other slice)
    by_hand, from_file = session_with(np.zeros_like(opened)), session_with(opened)
    for session in (by_hand, from_file):
        labels = session.host.current_labels()
        session.apply_edit(edit_from_region(labels, (0, slice(5, 9), slice(5, 9)), 3))
        session.host.notifications.clear()
        mark_reviewed_drawn(session)
        assert session.reviewed.mask[0, 10, 10]

    [(level, text)] = by_hand.host.notifications
    assert level == "warning" and text.startswith(
        "Only your 1 painted object is taught in the drawn region: the rest of it as background.")
    assert from_file.host.notifications == []
