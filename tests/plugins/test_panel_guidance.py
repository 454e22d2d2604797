"""What the panels tell a user who meets them for the first time: every button says what it
does (and a greyed-out one when it can be pressed), status lines speak of what there is
(no time points in a 3D stack), and a round's verdict shows the figures it rests on."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
from qtpy.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QSpinBox

pytestmark = pytest.mark.qt


OWN_PARTS = ("QAbstractSpinBox", "QComboBox", "QTableView")  # (their inner buttons and fields)


def _silent_controls(panel) -> list[str]:
    """The buttons, lists and fields of ``panel`` that have no tooltip."""
    kinds = (QAbstractButton, QComboBox, QLineEdit, QSpinBox)
    return [(w.text() if hasattr(w, "text") else "") or type(w).__name__
            for kind in kinds for w in panel.findChildren(kind)
            if not w.toolTip() and not any(w.parent().inherits(owner) for owner in OWN_PARTS)]


def _centre(labels, label_id, z):
    y, x = np.argwhere(labels[z] == label_id).mean(axis=0)
    return (float(z), float(y), float(x))


def test_every_correct_panel_button_says_what_it_does(corrected, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(corrected.session)
    qtbot.addWidget(panel)
    assert _silent_controls(panel) == []
    assert not panel.apply_button.isEnabled() and "two or more" in panel.apply_button.toolTip()


@pytest.mark.slow
def test_the_merge_status_speaks_of_tracks_only_in_a_time_series(corrected, make_napari_viewer,
                                                                 qtbot):  # fmt: skip
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.plugins.widgets import session_for

    panel = CorrectPanel(corrected.session)  # a 3D stack (ZYX)
    qtbot.addWidget(panel)
    labels = corrected.host.current_labels()
    panel.tool_buttons["merge"].click()
    for label_id in (7, 8):
        corrected.host.click(_centre(labels, label_id, 6))
    status = panel.tool_status.text()
    assert "(chosen: 7, 8), then Apply." in status and "time point" not in status

    movie = np.zeros((3, 32, 40), np.int32)
    movie[:, 8:14, 3:9], movie[:, 20:26, 3:9] = 1, 2
    viewer = make_napari_viewer()
    session = session_for(viewer)
    viewer.add_image(movie.astype(np.float32), name="movie", metadata={"axes": "TYX"})
    session.show_labels(movie.copy())
    series = CorrectPanel(session)
    qtbot.addWidget(series)
    series.tool_buttons["merge"].click()
    assert "at two time points: their tracks are joined" in series.tool_status.text()


def test_the_train_panel_says_what_to_do_first_and_what_each_control_means(corrected, qtbot):
    from unet_studio.app.qt.train_panel import TrainPanel

    train = TrainPanel(corrected.session)
    qtbot.addWidget(train)
    assert "mark them reviewed" in train.status.text()  # not a bare "Ready."
    assert _silent_controls(train) == []
    assert not train.rollback_button.isEnabled() and "No earlier version" in train.rollback_button.toolTip()


def test_the_verdict_names_the_figures_it_rests_on():
    from unet_studio.app.qt.train_review import verdict_basis

    scored = SimpleNamespace(metrics_before={"val_metric": 0.724, "n_true": 21, "val_loss": 4.36},
                             metrics_after={"val_metric": 0.702, "n_true": 21, "val_loss": 3.18})
    assert verdict_basis(scored) == " (F1, IoU 0.5: 0.724 → 0.702)"
    tied = SimpleNamespace(metrics_before={"val_metric": 0.5, "n_true": 3, "val_loss": 4.36},
                           metrics_after={"val_metric": 0.5, "n_true": 3, "val_loss": 3.18})
    assert verdict_basis(tied) == (  # (then the loss decides, and the verdict says so)
        " (F1, IoU 0.5 tied; the held-out loss decided: 4.360 → 3.180, 27% lower)")
    assert verdict_basis(SimpleNamespace(metrics_before={}, metrics_after={})) == ""


@pytest.mark.slow
def test_a_finished_round_shows_its_figures_every_row_and_a_short_version_date(corrected, qtbot, quick_round):
    """In a dock of the size napari gives it on a 1600x1000 screen: the verdict quotes its
    figures, the before/after table needs no scrolling, the Roll back list names a version
    by day and minute, and Accept says the image is being segmented again."""
    from unet_studio.app.qt.segment_panel import SegmentPanel
    from unet_studio.app.qt.train_panel import TrainPanel

    session = corrected.session
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    train, segment = TrainPanel(session), SegmentPanel(session)
    qtbot.addWidget(train)
    qtbot.addWidget(segment)
    train.resize(600, 914)
    train.show()
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round(max_steps=4, val_every=2))
    qtbot.wait(50)  # (laid out again)
    assert "→" in train.status.text() and train.metrics.rowCount() >= 5
    assert not train.metrics.verticalScrollBar().isVisible()
    with qtbot.waitSignal(segment.finished, timeout=60_000):
        train.accept_button.click()
        assert "Segmenting nuclei again" in train.status.text()
    session.set_model(session.library.get(session.model.parent))  # (the round: a version)
    version = train.versions_combo.currentText()
    assert re.search(r"\(\d{4}-\d\d-\d\d \d\d:\d\d\)$", version), version


def test_the_loss_scale_stays_left_of_the_plot(qtbot):
    from unet_studio.app.qt.loss_plot import LossPlot

    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 200)
    for step, loss in enumerate((3.51234, 2.0, 1.2)):
        plot.add(step, train_loss=loss, val_loss=loss + 100.5)
    area = plot.plot_area()
    assert plot.y_labels() == ("104", "1.2")
    for text in plot.y_labels():
        assert plot.fontMetrics().horizontalAdvance(text) < area.left()
    assert area.top() > plot.fontMetrics().lineSpacing()  # (the legend is above the curves)
    assert not plot.grab().isNull()  # (it paints)


def test_read_only_models_say_why_they_cannot_be_removed(models_panel):
    bundled = next(i for i in range(models_panel.model_list.count())
                   if models_panel.model_list.item(i).data(256).source == "bundled")
    models_panel.model_list.setCurrentRow(bundled)
    assert not models_panel.remove_button.isEnabled()
    assert "read-only" in models_panel.remove_button.toolTip()
    for button in (models_panel.use_button, models_panel.default_button,
                   models_panel.duplicate_button, models_panel.export_button,
                   models_panel.import_button):  # fmt: skip
        assert button.toolTip(), button.text()
