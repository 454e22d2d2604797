"""The offer of an image's earlier work (``saved_work_line``) takes the width its panel has:
a file and project name long and without spaces ("embryo_stack_2026-12-01_position3.tif",
its autosave project "...-20261207-085959") asked 413 px of the Segment panel, its dock
grew, and "Folder...", "Current slice" and the status line were cut off behind a sideways
scroll bar. The names wrap (after _ - . /) instead; the line never sets a dock's width."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt

LONG_FILE = "embryo_stack_2026-12-01_position3.tif"
LONG_PROJECT = "embryo_stack_2026-12-01_position3-20261207-085959"


def _offer(session, tmp_path, *projects: str) -> None:
    """The session offers ``projects`` as holding LONG_FILE's corrections (newest first),
    as after a restart (the look itself is tested in test_saved_work_offer)."""
    from unet_studio.app.saved_work import SavedWork

    offer = session.saved_work
    offer.found = [SavedWork(tmp_path / name, name, "embryo", 1.8e9 - index, ("other_image",))
                   for index, name in enumerate(projects)]
    offer.file = LONG_FILE
    offer.changed.emit()


def test_long_names_wrap_and_leave_the_panels_least_width_alone(studio, tmp_path, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.app.qt.dock_fit import least_width
    from unet_studio.app.qt.scrolling import PanelScrollArea
    from unet_studio.app.qt.segment_panel import SegmentPanel

    panels = [SegmentPanel(studio.session), CorrectPanel(studio.session)]
    for panel in panels:
        qtbot.addWidget(panel)
    areas = [panel.findChild(PanelScrollArea) for panel in panels]
    before = [least_width(area) for area in areas]  # (what the dock fit widens docks to)

    _offer(studio.session, tmp_path, LONG_PROJECT, LONG_PROJECT + "_copy")  # (a choice too)
    for panel, area, width in zip(panels, areas, before, strict=True):
        line = panel.saved_work_line
        assert not line.isHidden() and not line.choice.isHidden()
        assert line.text.text().startswith(f"{LONG_FILE} has corrections saved in "
                                           f"{LONG_PROJECT} (saved ")
        assert least_width(area) == width, type(panel).__name__
        panel.resize(width, 900)  # (the narrowest dock: the names wrap, whole)
        panel.show()
        qtbot.waitExposed(panel)
        assert area.horizontalScrollBar().maximum() == 0
        assert line.text.height() >= 3 * line.text.fontMetrics().height()
