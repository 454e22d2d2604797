"""The close question reads right whatever is at risk: one round, labels, several things."""

from __future__ import annotations

from unet_studio.app.qt.close_guard import question_text
from unet_studio.app.qt.project_watch import in_memory_text


def test_the_close_question_does_not_call_labels_it():
    labels = in_memory_text(["cells.tif", "nuclei.tif", "hela.tif"], "the folder is read-only")
    question = question_text([labels])
    assert "Save it " not in question  # ("the labels ... Save it before closing?")
    assert question.endswith("Save this work before closing? (Cancel keeps the window open.)")
    assert "\u201ccells.tif\u201d, \u201cnuclei.tif\u201d and \u201chela.tif\u201d" in labels
    assert "of \u201ccells.tif\u201d exist" in in_memory_text(["cells.tif"], "no space left")
