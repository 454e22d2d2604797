"""An image taken out of the project stays open and usable, but what is marked reviewed on
it afterwards (in memory only) is never learnt from: the removal promised that training no
longer learns from it until its file is opened again."""

from __future__ import annotations

import pytest

from unet_studio.app.errors import UserError

pytestmark = pytest.mark.qt


def _remove_then_mark(session) -> None:
    """Take the current image out of its project, then mark the slice on screen reviewed
    (as Mark this slice does) and correct an object there (auto-marked)."""
    from unet_studio.app.corrections import delete_object_edit
    from unet_studio.app.qt.review_marks import mark_reviewed_view

    labels = session.host.current_labels()
    labels[0, 5:15, 5:15] = 1
    session.remove_project_image(session.current_image_id())
    mark_reviewed_view(session)
    labels[1, 5:15, 5:15] = 2
    session.apply_edit(delete_object_edit(labels, 2))
    assert session.ensure_reviewed().any()  # (marked on screen, as the user asked)


@pytest.mark.parametrize("scope", ["image", "project"])
def test_marks_on_a_removed_image_are_not_learnt_from(session, scope):
    from unet_studio.app.qt.train_logic import collect_examples

    _remove_then_mark(session)

    with pytest.raises(UserError, match="img was removed from the project.*open its file again"):
        collect_examples(session, scope)
    assert session.project.images == []  # (nor added back by the marks)


def test_the_removed_image_is_said_left_out_of_a_project_round(session, tmp_path):
    """The other project images are learnt from; the image on screen is said left out."""
    import numpy as np
    import tifffile

    from unet_studio.app.qt.train_logic import collect_examples

    other = tmp_path / "other.tif"
    tifffile.imwrite(other, np.zeros((2, 30, 30), np.float32), imagej=True,
                     metadata={"axes": "ZYX"})
    ref = session.project.add_image(str(other), axes="ZYX", name="other", shape=(2, 30, 30))
    labels = np.zeros((2, 30, 30), np.int32)
    labels[:, 2:9, 2:9] = 1
    session.project.attach_labels(ref.id, labels, save=True)
    session.project.reviewed(ref.id, labels.shape).mark_region((slice(0, 1), slice(None), slice(None)))
    session.project.save_reviewed(ref.id)
    _remove_then_mark(session)

    examples, left_out = collect_examples(session, "project")

    assert [example.name for example in examples] == ["other"]
    assert left_out and left_out[0].startswith("img was removed from the project")


def test_accept_does_not_segment_again_an_image_removed_from_the_project(
        session, save_finished_round, qtbot):
    """A round accepted while its image was taken out of the project: the image is no longer
    worked on in it, its labels on screen (no longer saved nor protected by marks) stay."""
    from unet_studio.app.qt.train_panel import TrainPanel

    panel = TrainPanel(session)
    qtbot.addWidget(panel)
    panel.repredict_check.setChecked(True)
    project, image_id = session._project_for_current()
    saved = save_finished_round(session)
    session.close_project()
    session.open_project(project.path)  # (the round comes back waiting)
    assert panel.round is not None and panel.round.saved.resolve() == saved.path.resolve()
    session.remove_project_image(session._project_for_current(create=False)[1] or image_id)
    asked = []
    session.predict_requested.connect(lambda: asked.append(1))
    panel.accept()
    assert asked == [] and "img was removed from the project" in panel.status.text()
