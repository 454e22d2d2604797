"""Train refuses, before anything starts, to fine-tune a model of the other kind than the
reviewed labels are recorded as: an objects model on a class map learnt each class's pieces
as objects (and its round read "better"), a semantic model on objects learnt ids as classes.
The status says why, in Segment's words, and which model would fit; another project
image of the other kind is left out, saying why."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

CLASSES = ("background", "nucleus", "edge")


@pytest.fixture
def reviewed_labels(studio, qtbot):
    """``show(labels, classes, name)``: an image (48, 48) ``name`` with ``labels`` recorded
    as ``classes`` (() : objects), its top rows reviewed; returns a Train panel."""
    from unet_studio.app.qt.train_panel import TrainPanel

    def show(labels: np.ndarray, classes: tuple[str, ...], name: str = "cells"):
        studio.viewer.add_image(np.random.default_rng(0).random((48, 48), np.float32),
                                name=name, metadata={"axes": "YX"})
        studio.host.select_image(name)
        studio.session.show_labels(labels.copy())
        studio.host.record_labels_classes(classes)
        studio.session.ensure_reviewed().mark_region((slice(0, 24), slice(None)))
        studio.session.reviewed_changed_by_user()
        panel = TrainPanel(studio.session)
        qtbot.addWidget(panel)
        return panel

    return show


def test_train_refuses_reviewed_labels_of_the_other_kind_than_its_model(
        studio, reviewed_labels, em_model, told):  # fmt: skip
    from unet_studio.app.qt import train_logic

    classes = np.zeros((48, 48), np.int32)
    classes[4:20, 4:20], classes[30:] = 1, 2
    panel = reviewed_labels(classes, CLASSES, "cells")  # (the studio's model: tiny, objects)
    panel.start()
    assert panel.worker is None and panel.round is None
    status = panel.status.text()
    assert status.startswith("Not started: 'cells labels' holds a class map (background, "
                             "nucleus, edge) with reviewed corrections, and tiny outputs "
                             "objects"), status
    assert "Choose a semantic model of background, nucleus, edge in the Models panel" in status
    assert any(level == "error" and "outputs objects" in text for level, text in told)
    assert studio.host.labels_classes() == CLASSES

    # Objects on another image, now the current one: the class map's image is left out.
    panel = reviewed_labels(classes * 7, (), "nuclei")
    pending, problems = train_logic.collect_examples(studio.session, "project")
    assert [example.name for example in pending] == ["nuclei"]
    assert problems == ["cells is left out: its labels hold a class map (background, nucleus, "
                        "edge), and tiny outputs objects: training it on them would mix the "
                        "two (it would learn each class's pieces as objects)"]

    # ...and a semantic model is not trained on the objects.
    studio.session.set_model(str(em_model))
    assert panel.status.text().startswith(  # (said as the model is chosen, before Train)
        "Cannot train: 'nuclei labels' holds objects with reviewed corrections, and em "), \
        panel.status.text()
    panel.start()
    assert panel.worker is None and panel.round is None
    status = panel.status.text()
    assert "'nuclei labels' holds objects with reviewed corrections, and em outputs a class " \
           "map (background, mitochondria, membrane)" in status, status
    assert "it would learn object ids as class values" in status
    assert "Choose an objects (instance) model" in status


def test_the_cannot_train_line_follows_the_image_being_corrected(studio, em_model, qtbot):
    """The line named another image's labels after a switch, and a fitting model's ready
    line stayed over labels it does not fit."""
    from unet_studio.app.qt.train_panel import TrainPanel

    rng = np.random.default_rng(0)
    objects = np.zeros((48, 48), np.int32)
    objects[4:20, 4:20] = 7
    panel = TrainPanel(studio.session)
    qtbot.addWidget(panel)
    for name, classes in (("cells", ()), ("plain", None)):  # (plain: no kind recorded)
        studio.viewer.add_image(rng.random((48, 48), np.float32), name=name,
                                metadata={"axes": "YX"})
        studio.host.select_image(name)
        studio.session.show_labels(objects.copy())
        if classes is not None:
            studio.host.record_labels_classes(classes)
        studio.session.ensure_reviewed().mark_region((slice(0, 24), slice(None)))
        studio.session.reviewed_changed_by_user()
    studio.session.set_model(str(em_model))
    assert panel.status.text() == "Ready to fine-tune em."  # ("plain" is current)

    studio.viewer.layers.selection.active = studio.viewer.layers["cells"]  # (a click in the list)
    qtbot.waitUntil(lambda: panel.status.text().startswith(
        "Cannot train: 'cells labels' holds objects"), timeout=5_000)
    studio.viewer.layers.selection.active = studio.viewer.layers["plain"]
    qtbot.waitUntil(lambda: panel.status.text() == "Ready to fine-tune em.", timeout=5_000)
