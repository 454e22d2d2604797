"""Which axis "Through every slice" marks a drawn region along: Z of a stack (at the time
point it was drawn), T of a 2D time series; a single plane has none."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.errors import UserError

pytestmark = pytest.mark.qt

SQUARE_YX = np.array([[2, 2], [2, 8], [8, 8], [8, 2]], float)


@pytest.fixture
def session_of(tmp_path, monkeypatch):
    """``session_of(axes, shape, position)``: a session on a FakeHost showing an image of
    ``axes`` (empty labels), viewed in YX at ``position``."""
    from unet_studio.app.host import FakeHost, full_view
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    sessions = []

    def make(axes: str, shape: tuple[int, ...], position: tuple[int, ...]):
        host = FakeHost()
        host.add_image(np.zeros(shape, np.float32), axes, name="img")
        session = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
        session.show_labels(np.zeros(shape, np.int32))
        host.view = full_view(shape, position)
        at = np.tile(np.array(position[:-2], float), (len(SQUARE_YX), 1))
        host.drawn.append(np.hstack([at, SQUARE_YX]))
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close_project()


def test_a_time_series_stack_is_marked_through_z_at_its_time_point(session_of):
    from unet_studio.app.qt.review_marks import mark_reviewed_drawn

    session = session_of("TZYX", (3, 4, 12, 12), (1, 2, 0, 0))
    said = mark_reviewed_drawn(session, through=True)
    mask = session.reviewed.mask
    assert mask[1, :, 5, 5].all() and not mask[1, :, 10, 10].any()
    assert not mask[0].any() and not mask[2].any()
    assert said == "Marked the drawn region in all 4 slices (Z)."


def test_a_2d_time_series_is_marked_through_every_time_point(session_of):
    from unet_studio.app.qt.review_marks import mark_reviewed_drawn

    session = session_of("TYX", (5, 12, 12), (3, 0, 0))
    said = mark_reviewed_drawn(session, through=True)
    assert session.reviewed.mask[:, 5, 5].all() and "all 5 time points (T)" in said


def test_a_single_plane_has_nothing_to_mark_through(session_of):
    from unet_studio.app.qt.review_marks import mark_reviewed_drawn

    session = session_of("YX", (12, 12), (0, 0))
    with pytest.raises(UserError, match="single plane"):
        mark_reviewed_drawn(session, through=True)
    assert not session.reviewed.any() and session.host.drawn_regions()  # (kept: not consumed)
