"""Run pressed while the offer of an image's earlier work stands (``saved_work_offer``).

Run with no project open starts a new autosave project and segments with the model
current now: the project holding the image's corrections, and the model fine-tuned in it,
went out of reach with nothing but a notification (a new user's first step after a restart
is Run). So Run asks first, naming the file, the project, when it was saved and its model:
open that project, segment in a new project, or cancel.
"""

from __future__ import annotations

import json
from pathlib import Path

from qtpy.QtWidgets import QMessageBox, QWidget

from unet_studio.app.errors import UserError
from unet_studio.app.model_library import SOURCES, ModelLibrary
from unet_studio.app.project_saving import PROJECT_FILE
from unet_studio.app.qt.saved_work_offer import saved_at
from unet_studio.app.saved_work import SavedWork

OPEN, NEW, CANCEL = "open", "new", "cancel"
TITLE = "Earlier corrections of this image"


def go_on_with_run(session, work: SavedWork | None, parent: QWidget | None) -> bool:
    """Whether Run goes on: True when no offer stands (``work`` None) or the user chose a
    new project; False when she chose to open the project (opened here) or cancelled."""
    if work is None:
        return True
    current = session.model.name if session.model is not None else None
    answer = ask_run_choice(parent, run_question(session.saved_work.file, work, current))
    if answer == OPEN:
        # Opened only, not segmented: the project brings back her corrected labels and
        # makes its own model current, and a run right after would replace the corrections
        # outside the reviewed regions with a new prediction: the very work she asked
        # back. The Segment panel then says what Run does, with which model.
        try:
            session.saved_work.open_project(work)
        except UserError as error:  # (the offer stays: she may try again or go on)
            session.host.notify(str(error), "warning")
    return answer == NEW


def run_question(file: str, work: SavedWork, current_model: str | None) -> str:
    """The question: the file, the project and when it was saved, its model, and what
    each answer does."""
    model = project_model_name(work.project)
    its_model = f", with its model {model}" if model else ""
    with_now = f" with {current_model}" if current_model else ""
    return (f"{file} has corrections saved in the project {work.project} (saved "
            f"{saved_at(work)}){its_model}.\n\n"
            "Open that project: its labels and reviewed marks come back"
            f"{' and its model becomes current' if model else ''}; then press Run to "
            "segment with it.\n\n"
            f"Segment in a new project: segment it{with_now} in a new autosave project; the "
            "earlier corrections stay where they are.")


def ask_run_choice(parent: QWidget | None, text: str) -> str:
    """OPEN, NEW or CANCEL (closing the box is Cancel). Open is the default: Enter takes
    the earlier work back, never starts over."""
    box = QMessageBox(QMessageBox.Icon.Question, TITLE, text, QMessageBox.StandardButton.Cancel,
                      parent)
    open_button = box.addButton("Open that project", QMessageBox.ButtonRole.AcceptRole)
    new_button = box.addButton("Segment in a new project", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(open_button)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    return OPEN if clicked is open_button else NEW if clicked is new_button else CANCEL


def project_model_name(project: Path) -> str | None:
    """The name of the model current in the project at ``project`` (often one fine-tuned
    in it), as its ``project.json`` records it; None when none is or it cannot be read
    (the question goes on without it)."""
    try:
        ref = json.loads((project / PROJECT_FILE).read_text("utf-8")).get("current_model")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(ref, str) or not ref:
        return None
    try:  # (its own name, as the Segment panel will show it once the project is open)
        return ModelLibrary(project_models_dir=project / "models").get(ref).name
    except (UserError, OSError):  # (gone, damaged, InputFileError too: named by its ref)
        source, _, name = ref.partition(":")  # (a library ref, "project:name", or a folder)
        return name if source in SOURCES and name else Path(ref).name or ref
