"""Boxes that list model names shorten them in the middle: fine-tuned models are named
"<parent name>-ft-YYYYMMDD-HHMMSS", and cut at the end (at 1280 px) every version read
"unet-studio default nu…" in the Segment panel's model box and the Train panel's Roll back
list. Their lists still show the names whole."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt

PARENT = "unet-studio default nuclei (2D)"  # (the bundled model's name)
STAMPS = ("20261207-131205", "20261208-094517")
# The boxes' widths in the docks of a 1280x720 laptop, napari's window maximised (QA
# screenshots: the model box ~207 px, the Roll back list two thirds of ~365 px).
MODEL_BOX_WIDTH = 200
VERSIONS_BOX_WIDTH = 240


def _save_versions(folder) -> list[str]:
    """Two fine-tuned versions of PARENT saved in ``folder``; returns their names."""
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    names = []
    for stamp in STAMPS:
        name = f"{PARENT}-ft-{stamp}"
        date = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:00+00:00"
        net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
        save_model(net, folder / name, metadata={"name": name, "date": date})
        names.append(name)
    return names


def _shown_per_choice(combo, texts: list[str], qtbot) -> list[tuple[str, bytes]]:
    """For each item whose text starts with one of ``texts``: the text the box paints and
    its painted pixels, once chosen."""
    shown = []
    for text in texts:
        index = next(i for i in range(combo.count()) if combo.itemText(i).startswith(text))
        combo.setCurrentIndex(index)
        qtbot.wait(10)
        image = combo.grab().toImage()
        shown.append((combo.label_option().currentText, bytes(image.constBits())))
    return shown


def _popup_shows_whole(combo, qtbot) -> None:
    combo.showPopup()
    qtbot.waitUntil(combo.view().isVisible)
    view, metrics = combo.view(), combo.view().fontMetrics()
    widest = max(metrics.horizontalAdvance(combo.itemText(i)) for i in range(combo.count()))
    assert view.viewport().width() >= widest  # (every name whole in the list)
    combo.hidePopup()


def test_the_segment_model_box_shows_the_name_start_and_its_stamp(studio, segment_panel_of, qtbot):
    session = studio.session
    names = _save_versions(session.library.folders["user"])
    panel = segment_panel_of(studio)
    session.models_listed.emit()  # (the user folder changed: every list is filled again)
    combo = panel.model_combo
    combo.setFixedWidth(MODEL_BOX_WIDTH)
    panel.show()
    qtbot.waitExposed(panel)
    (first_text, first_pixels), (second_text, second_pixels) = _shown_per_choice(combo, names, qtbot)
    for text, stamp in ((first_text, STAMPS[0]), (second_text, STAMPS[1])):
        assert "…" in text and text.startswith("unet-stud")
        # (the name alone: "(user)" is told in the list, and took the room of the stamp)
        assert text.endswith(stamp[-11:]), text  # (its month, day and time: "1207-131205")
    assert first_pixels != second_pixels  # (the two versions look different)
    _popup_shows_whole(combo, qtbot)


def test_the_roll_back_list_shows_the_name_start_and_its_stamp(train, qtbot):
    session = train.session
    names = _save_versions(session.ensure_project().models_dir)
    train.refresh_versions()
    combo = train.versions_combo
    assert combo.count() == 2
    combo.setFixedWidth(VERSIONS_BOX_WIDTH)
    train.show()
    qtbot.waitExposed(train)
    (first_text, first_pixels), (second_text, second_pixels) = _shown_per_choice(combo, names, qtbot)
    # (each item ends with the version's saving day and time: what tells them apart)
    assert first_text.startswith("unet-stud") and first_text.endswith("12-07 13:12)")
    assert second_text.startswith("unet-stud") and second_text.endswith("12-08 09:45)")
    assert first_pixels != second_pixels
    _popup_shows_whole(combo, qtbot)


def test_the_models_panels_current_model_line_keeps_the_stamp(models_panel, qtbot, tmp_path):
    """The Models panel's "Current model: ..." line at a laptop dock's width: it read
    "Current model: unet-studio default nuclei (2D)-ft-…", the time stamp cut."""
    name = _save_versions(tmp_path)[1]
    models_panel.session.set_model(str(tmp_path / name))
    label = models_panel.current_label
    models_panel.resize(300, 700)
    models_panel.show()
    qtbot.waitExposed(models_panel)
    shown = label.shown_text()
    assert "…" in shown and shown.startswith("Current model: un")
    assert shown.endswith(STAMPS[1][-11:]), shown
