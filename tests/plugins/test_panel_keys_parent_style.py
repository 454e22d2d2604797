"""A panel's focus ring follows the theme without fighting a style sheet set on its parent.

Run in a fresh process: the endless recursion this guards against ended in a segfault (which
would end the whole test run), and it shows only in an application where no napari viewer
was made yet (a ``QtViewer`` in the same process hides it), which other tests leave behind.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.qt

# A panel's content (``scrolled_body``, as every panel lays out its content) in a parent
# that gets a style sheet like napari's dark one directly; prints the body's text colour and its sheet.
SCRIPT = textwrap.dedent("""
    from qtpy.QtGui import QPalette
    from qtpy.QtWidgets import QApplication, QPushButton, QVBoxLayout, QWidget

    from unet_studio.app.qt.scrolling import scrolled_body

    app = QApplication([])
    parent, panel = QWidget(), QWidget()
    body = scrolled_body(panel)
    QVBoxLayout(body).addWidget(QPushButton("Train"))
    QVBoxLayout(parent).addWidget(panel)
    parent.show()
    # (napari's dark theme as its sheet sets it: any sheet that sets the text colour will do)
    parent.setStyleSheet("QWidget { color: rgb(240, 241, 242); background-color: #262930; }")
    text = body.palette().color(QPalette.ColorRole.WindowText)
    print(f"rgba({text.red()}, {text.green()}, {text.blue()}, 0.80)")
    print(body.styleSheet())
""")


def test_napari_style_sheet_on_a_parent_of_a_panel_returns():
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "RecursionError" not in run.stderr, run.stderr[-2000:]
    text, sheet = run.stdout.split("\n", 1)
    assert text == "rgba(240, 241, 242, 0.80)"  # (napari's dark theme: light text)
    assert f"solid {text}" in sheet  # (the focus ring in the theme's text colour)
