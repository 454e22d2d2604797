"""A round whose held-out blocks hold no reviewed object (the QA run's E. coli crop: its 8
clustered cells all stayed in training, the 5 held-out blocks were background). Its table
read "objects predicted 0 | 0" (as if the model found nothing), its status "no score"
unexplained, and its plot's legend named a held-out score that had no curve."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from qtpy.QtWidgets import QTableWidget

from unet_studio.app.qt import train_layout
from unet_studio.app.qt.loss_plot import LossPlot
from unet_studio.app.qt.train_logic import metric_table
from unet_studio.app.qt.train_pace import before_training_text

pytestmark = pytest.mark.qt

# The QA round's held-out metrics: object counts only (no F1 without reference objects).
NO_OBJECTS_BEFORE = {"n_pred": 0, "n_true": 0, "val_loss": 0.662}
NO_OBJECTS_AFTER = {"n_pred": 0, "n_true": 0, "val_loss": 0.351}


def test_the_table_says_the_held_out_blocks_hold_no_objects_and_keeps_the_loss():
    rows = metric_table(NO_OBJECTS_BEFORE, NO_OBJECTS_AFTER)
    assert [row[0] for row in rows] == ["no objects held out", "held-out loss"]
    assert rows[0][2:] == ("–", "–") and "nothing to count" in rows[0][1]
    assert rows[1][2:] == ("0.662", "0.351")
    assert not any(text == "0" for row in rows for text in row[2:])  # (no "0 | 0" anywhere)


def test_objects_predicted_in_empty_blocks_show_as_extras():
    """Background blocks: whatever a model predicts there is an extra object."""
    rows = metric_table(dict(NO_OBJECTS_BEFORE, n_pred=3), NO_OBJECTS_AFTER)
    assert [row[0] for row in rows] == ["no objects held out", "extra objects predicted",
                                        "held-out loss"]
    assert rows[1][2:] == ("3", "0") and "extra" in rows[1][1]


def test_tables_with_objects_stay_as_they_were(qa_rounds):
    names = [row[0] for row in metric_table(qa_rounds.hela_before, qa_rounds.hela_after)]
    assert names == ["F1, IoU 0.5", "F1, IoU 0.75", "mean IoU of matches",
                     "objects predicted", "objects reviewed", "held-out loss"]


def test_the_panel_table_shows_the_note_row(qtbot):
    table = QTableWidget(0, 2)
    qtbot.addWidget(table)
    train_layout.show_metrics(table, NO_OBJECTS_BEFORE, NO_OBJECTS_AFTER)
    headers = [table.verticalHeaderItem(row).text() for row in range(table.rowCount())]
    assert headers == ["no objects held out", "held-out loss"]
    assert table.item(0, 0).text() == "–" and table.item(1, 1).text() == "0.351"


def test_the_running_status_says_why_there_is_no_score():
    progress = SimpleNamespace(val_metric=None, val_loss=0.662, remaining=None)
    text = before_training_text(progress)
    assert text.startswith("Scored the starting model by its held-out loss 0.662 (no objects "
                           "in the held-out blocks to count); training step 1"), text
    assert "no score" not in text
    scored = before_training_text(SimpleNamespace(val_metric=0.412, val_loss=0.662, remaining=None))
    assert scored.startswith(
        "Scored the starting model (held-out score 0.412, held-out loss 0.662);")


def _round_without_objects(qtbot) -> LossPlot:
    """The plot fed as the Train panel feeds it: held-out values without a score."""
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 220)
    plot.add(0, train_loss=float("nan"), val_loss=0.662, val_score=None)
    for step, loss in enumerate((2.0, 2.9, 2.6), start=1):
        plot.add(step, train_loss=loss)
    plot.add(3, val_loss=0.351, val_score=None)
    return plot


def test_the_legend_names_only_series_with_a_curve(qtbot):
    plot = _round_without_objects(qtbot)
    entries = plot.legend()
    assert [entry.name for entry in entries] == ["train loss", "held-out loss"]
    # (the training loss says what it is measured on: not to be read against the other)
    assert entries[0].text == "training loss (patches with objects)"
    assert "held-out" in plot.toolTip() and "compare it only with itself" in plot.toolTip()
    assert not plot.grab().isNull()  # (it paints)


def test_an_empty_plot_keeps_its_frame_where_the_first_point_leaves_it(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 220)
    assert plot.legend() == []
    empty_top = plot.plot_area().top()
    assert not plot.grab().isNull()  # (paints with no legend at all)
    plot.add(0, val_loss=0.662)
    assert plot.plot_area().top() == empty_top
