"""The Correct panel's "Reviewed (training data)" box: marking the plane on screen, a range
of planes or a drawn region reviewed, whether edits mark themselves, the overlay, and how
much of the labels is reviewed so far.

Apart from ``correct_panel`` because it is one box with its own state (the reviewed share it
shows, the auto-mark switch it mirrors) that only reviewed marks change; a mixin of
:class:`CorrectPanel`, which provides ``session``, ``shown_keys``, ``keys``, ``_run``,
``_press``, ``_mark_range``, ``_host_call``, ``_say`` and ``_follow_plane_word``.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QCheckBox, QGridLayout, QGroupBox, QLabel, QPushButton

from unet_studio.app.qt.correct_tips import DRAWING_REGION
from unet_studio.app.qt.hand_only_hint import hand_only_said
from unet_studio.app.qt.review_marks import mark_reviewed_drawn
from unet_studio.app.share_text import percent_text

ONLY_REVIEWED = "Only reviewed regions become training data."


class CorrectReviewedBox:
    def _build_review(self) -> QGroupBox:
        # (a short title: the long one set the panel's least width; the line below says it)
        box = QGroupBox("Reviewed (training data)")
        box.setToolTip(ONLY_REVIEWED)
        grid = QGridLayout(box)
        # (their texts, "Mark this slice" or "Mark this time point": _follow_plane_word)
        self.mark_slice_button = QPushButton()
        shown = self.shown_keys
        self.mark_slice_button.setToolTip(f"Or press {shown['review']} over the canvas")
        self.unmark_slice_button = QPushButton()
        self.unmark_slice_button.setToolTip(f"Or press {shown['unreview']} over the canvas")
        self.mark_range_button = QPushButton()  # ("Mark slices…": a range, one step)
        self.draw_button = QPushButton("Draw region")
        self.mark_drawn_button = QPushButton("Mark drawn region")
        self.through_check = QCheckBox(checked=False)
        self.auto_check = QCheckBox("Mark edited regions automatically", checked=True)
        self.overlay_check = QCheckBox("Show reviewed overlay", checked=True)
        self.reviewed_label = QLabel(wordWrap=True)
        grid.addWidget(self.mark_slice_button, 0, 0)
        grid.addWidget(self.unmark_slice_button, 0, 1)
        grid.addWidget(self.mark_range_button, 1, 0)
        grid.addWidget(self.draw_button, 2, 0)
        grid.addWidget(self.mark_drawn_button, 2, 1)
        # (under Mark drawn region, which it is for; spanning both columns, as in column 1
        # alone its text, "Through every time point", widened the panel past its dock)
        grid.addWidget(self.through_check, 3, 0, 1, 2, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.auto_check, 4, 0, 1, 2)
        grid.addWidget(self.overlay_check, 5, 0, 1, 2)
        grid.addWidget(self.reviewed_label, 6, 0, 1, 2)
        # (as R and Shift+R: the status line says what was marked, or why not in 3D)
        self.mark_slice_button.clicked.connect(lambda: self._run(lambda: self._press("review", None)))
        self.unmark_slice_button.clicked.connect(
            lambda: self._run(lambda: self.keys.press("unreview", None))
        )
        self.mark_range_button.clicked.connect(lambda: self._run(self._mark_range))
        self.draw_button.clicked.connect(lambda: self._run(self._draw_region))
        self.mark_drawn_button.clicked.connect(lambda: self._run(self._mark_drawn))
        self.auto_check.toggled.connect(self._set_auto)
        self.overlay_check.toggled.connect(self.session.set_overlay_visible)
        return box

    def _draw_region(self) -> None:
        """Start drawing regions, and say that napari's shape keys are the keys meanwhile:
        with the regions layer active, D, R and S picked shape tools instead of acting on
        objects, without a word (napari asks the active layer first)."""
        self._host_call("start_region_drawing")()
        self._say(DRAWING_REGION)

    def _mark_drawn(self) -> None:
        # (the status line says what was marked: how many planes, when it reached far
        # beyond the screen; never what an earlier key did)
        with hand_only_said() as said:  # (its warning first, kept as R's is: see _press)
            marked = mark_reviewed_drawn(self.session, through=self.through_check.isChecked())
        self._say(" ".join([*said, marked]))

    def _set_auto(self, on: bool) -> None:
        regions = self.session.ensure_reviewed()
        if regions is not None:
            regions.auto_from_edits = bool(on)

    def _update_reviewed(self) -> None:
        # (told on another image made current, and on new labels: the words follow it)
        self._follow_plane_word()
        regions = self.session.ensure_reviewed()  # (the current image's labels')
        if regions is None or not regions.any():
            self.reviewed_label.setText(f"Nothing reviewed yet: {ONLY_REVIEWED[0].lower()}"
                                        f"{ONLY_REVIEWED[1:]}")
        else:
            count = regions.count()  # (a stack's few marks: "0.0039%", never "0.0%")
            share = percent_text(count, int(np.prod(regions.shape)))
            image = self.session.host.current_image()
            unit = "voxels" if image is not None and "Z" in image.axes else "pixels"  # (3D)
            self.reviewed_label.setText(f"Reviewed: {share} of the {unit} ({count:,})")
        if regions is not None:
            self.auto_check.blockSignals(True)
            self.auto_check.setChecked(regions.auto_from_edits)
            self.auto_check.blockSignals(False)
