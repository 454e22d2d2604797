"""Run pressed while the offer of an image's earlier work stands (``saved_work_run``): after
a restart, a user opened the same file and pressed Run; it segmented with the model current
then in a second autosave project, and the offer of the project holding her corrections
(and the model fine-tuned in it) went, a notification saying where they stayed. Now Run
asks first, and the Segment panel shows the offer too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.qt


@dataclass
class Reopened:
    session: object
    panel: object
    earlier: Path  # the autosave project holding the file's corrections
    labels: np.ndarray  # the corrected labels saved in it


@pytest.fixture
def reopened(studio, studio_home, make_napari_viewer, nuclei_file_corrected, tiny_model_dir,
             qtbot):
    """nuclei.tif corrected in an earlier session (autosaved), then the app started again
    (a new viewer and session, with the tiny model) and the file opened again, with a
    Segment panel: the offer stands."""
    from unet_studio.app.qt.segment_panel import SegmentPanel
    from unet_studio.plugins.widgets import session_for

    path, session = nuclei_file_corrected, studio.session
    earlier, labels = session.project.path, session.host.current_labels().copy()
    session.close_project()  # (the window closes: a restart)
    studio.viewer.layers.clear()

    again = session_for(make_napari_viewer())
    again.set_model(str(tiny_model_dir))
    panel = SegmentPanel(again)
    qtbot.addWidget(panel)
    again.host.viewer.open(str(path), plugin="unet-studio")
    qtbot.waitUntil(lambda: not panel.saved_work_line.isHidden(), timeout=5000)
    yield Reopened(again, panel, earlier, labels)
    again.close_project()


def autosave_projects(home: Path) -> list[Path]:
    return sorted(folder for folder in (home / "projects").iterdir() if folder.is_dir())


def test_run_asks_first_and_cancel_or_open_that_project_do_what_they_say(
        reopened, studio_home, click_and_answer):
    session, panel, earlier = reopened.session, reopened.panel, reopened.earlier
    line = panel.saved_work_line.text.text()
    assert line.startswith(f"nuclei.tif has corrections saved in {earlier.name} (saved ")

    asked = click_and_answer(panel.run_button, "Cancel")
    assert "nuclei.tif" in asked and str(earlier) in asked and "(saved 20" in asked
    assert "with its model tiny" in asked  # (the model current in that project)
    assert panel.worker is None and session.project is None  # (nothing happened)
    assert session.host.current_labels() is None
    assert not panel.saved_work_line.isHidden()  # (the offer still stands)

    click_and_answer(panel.run_button, "Open that project")
    assert session.project is not None and session.project.path == earlier
    np.testing.assert_array_equal(session.host.current_labels(), reopened.labels)
    assert panel.worker is None  # (opened, not segmented over the corrections)
    assert autosave_projects(studio_home) == [earlier]  # (no second autosave project)
    assert panel.saved_work_line.isHidden()  # (the offer goes with the project opened)


@pytest.mark.slow
def test_run_in_a_new_project_segments_as_before_and_then_asks_no_more(
        reopened, studio_home, click_and_answer, qtbot):
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    session, panel, earlier = reopened.session, reopened.panel, reopened.earlier
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        click_and_answer(panel.run_button, "Segment in a new project")
    assert session.project is not None and session.project.path != earlier
    assert sorted(autosave_projects(studio_home)) == sorted([earlier, session.project.path])
    assert session.host.current_labels().max() > 0  # (segmented)
    assert panel.saved_work_line.isHidden()  # (the offer went with the new project)

    questions = []  # (any question box: answered Cancel at once, and noted)

    def refuse_questions():
        box = QApplication.activeModalWidget()
        if box is not None:
            questions.append(box)
            box.reject()

    watch = QTimer(interval=20)
    watch.timeout.connect(refuse_questions)
    watch.start()
    try:
        with qtbot.waitSignal(panel.finished, timeout=60_000):
            panel.run_button.click()
    finally:
        watch.stop()
    assert questions == []  # (no offer: Run runs)
