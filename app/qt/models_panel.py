"""The Models panel: the models available with their card; use, set default, rename,
duplicate, import, export, remove, remove the rejected Train rounds and the checkpoints
stopped rounds left, and the earlier accepted versions but the last N
(``models_panel_cleanup``); and a tab to build a new network from the
family (``network_builder``). What Rename, Duplicate and Export do is in ``model_actions``."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from unet_studio.app.errors import UserError
from unet_studio.app.model_library import where_listed
from unet_studio.app.qt import model_actions, rejected_rounds
from unet_studio.app.qt.elided_label import ElidedLabel
from unet_studio.app.qt.model_card import card_markdown
from unet_studio.app.qt.models_panel_cleanup import (
    CLEANUP_TIP,
    CleanupActions,
    OldVersionsActions,
    old_versions_row,
)
from unet_studio.app.qt.network_builder import NetworkBuilder
from unet_studio.app.qt.reflow_grid import ReflowGrid
from unet_studio.app.qt.scrolling import scrolled_body
from unet_studio.app.qt.workers import FileWorker, start_engine

EDITABLE = ("user", "project")  # the sources whose models can be renamed and removed


def model_item_text(name: str, source: str, marks: list[str]) -> str:
    """A model's line in the list: "(current, default)  name  [source]"."""
    return (f"({', '.join(marks)})  " if marks else "") + f"{name}  [{source}]"


class ModelsPanel(CleanupActions, OldVersionsActions, QWidget):
    """Lists the session library's models; the card of the selected one on the right.
    ``imported(info)`` after a model folder was imported, ``duplicated(info)`` after a copy
    was made, ``exported(folder)`` after an export."""

    imported = Signal(object)
    duplicated = Signal(object)
    exported = Signal(object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.worker = None  # the import, export or duplicate running (one at a time), or None
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_library(), "Library")
        self.builder = NetworkBuilder(session)
        self.tabs.addTab(self.builder, "New network")
        layout = QVBoxLayout(scrolled_body(self))  # (scrolls in a short dock)
        layout.addWidget(self.tabs)
        session.model_changed.connect(self._model_changed)
        session.models_listed.connect(self.refresh)
        session.project_changed.connect(self.refresh)
        self.refresh()

    def _build_library(self) -> QWidget:
        page = QWidget()
        self.model_list = QListWidget()
        # A long name is elided in its middle (fine-tuned rounds differ by the time stamp at
        # its end) and the marks come first: past the name they ran off a narrow dock's edge.
        self.model_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.model_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.card = QTextBrowser(openExternalLinks=False)
        # (Tab goes on to the buttons: it stepped through each link of a card first,
        # 9 presses on the bundled model's; the links stay a click away)
        self.card.setTabChangesFocus(True)
        self.card.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        # (a long model name: elided, not cut off; in its middle, as the list's: the
        # -ft-<time> at the end tells fine-tuned versions apart)
        self.current_label = ElidedLabel(elide_mode=Qt.TextElideMode.ElideMiddle)
        self.use_button = QPushButton("Use")
        self.default_button = QPushButton("Set default")
        self.rename_button = QPushButton("Rename…")
        self.duplicate_button = QPushButton("Duplicate")
        self.export_button = QPushButton("Export…")
        self.remove_button = QPushButton("Remove")
        self.import_button = QPushButton("Import…")
        # Shown while the project holds rejected rounds or checkpoints of stopped rounds:
        # how many and their size, so that the disk they take is seen (see
        # ``rejected_rounds`` and ``leftover_checkpoints`` for why never automatic).
        self.remove_rejected_button = QPushButton()
        self.remove_rejected_button.setToolTip(CLEANUP_TIP)
        self.rejected: list = []  # the RejectedRounds the button offers to remove
        self.leftovers: list = []  # the LeftoverCheckpoints it offers too
        for button, tip in ((self.use_button, "Segment and fine-tune with the selected model"),
                            (self.default_button, "Start with the selected model next time"),
                            (self.duplicate_button, "Copy the selected model (a copy can be renamed)"),
                            (self.export_button, "Copy the selected model into a folder you choose"),
                            (self.import_button, "Add a model folder (model.safetensors + config.json)")):  # fmt: skip
            button.setToolTip(tip)
        # The buttons take as many columns as the dock's width allows (three at most): in
        # rows of three they made the panel wider than its dock, which cut Rename and Remove off.
        buttons = ReflowGrid(columns=3)
        for button in (self.use_button, self.default_button, self.rename_button,
                       self.duplicate_button, self.export_button, self.remove_button,
                       self.import_button):  # fmt: skip
            buttons.addWidget(button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.current_label)
        layout.addWidget(self.model_list)
        layout.addLayout(buttons)
        layout.addWidget(self.remove_rejected_button)
        layout.addLayout(old_versions_row(self))  # (see ``old_versions``)
        layout.addWidget(self.card, 1)
        self.model_list.currentItemChanged.connect(lambda *_: self._show_card())
        self.use_button.clicked.connect(lambda: self._run(self.use_selected))
        self.default_button.clicked.connect(lambda: self._run(self.set_default_selected))
        self.rename_button.clicked.connect(lambda: self._run(self._rename_dialog))
        self.duplicate_button.clicked.connect(lambda: self._run(self.duplicate_selected))
        self.remove_button.clicked.connect(lambda: self._run(self._remove_if_confirmed))
        self.remove_rejected_button.clicked.connect(
            lambda: self._run(self._remove_rejected_if_confirmed))
        self.remove_old_button.clicked.connect(
            lambda: self._run(self._remove_old_versions_if_confirmed))
        self.keep_spin.valueChanged.connect(lambda _: self._show_old_versions())
        self.import_button.clicked.connect(self._import_dialog)
        self.export_button.clicked.connect(self._export_dialog)
        return page

    # ---- state -----------------------------------------------------------------------------
    def refresh(self) -> None:
        library = self.session.library
        current = self.session.model
        default = library.default()
        selected = self.selected()
        self.model_list.clear()
        models = library.list()
        self._show_rejected(rejected_rounds.removable_rounds(self.session))
        self._show_old_versions()
        rejected = {found.info.path for found in self.rejected}
        for info in models:
            marks = ["rejected"] if info.path in rejected else []
            if current is not None and info.path == current.path:
                marks.append("current")
            if default is not None and info.path == default.path:
                marks.append("default")
            text = model_item_text(info.name, where_listed(info, models), marks)
            item = QListWidgetItem(text)
            item.setToolTip(text)  # (the whole name, elided in a narrow dock's list)
            item.setData(256, info)  # Qt.UserRole
            self.model_list.addItem(item)
            if selected is not None and info.path == selected.path:
                self.model_list.setCurrentItem(item)
        if self.model_list.currentItem() is None and self.model_list.count():
            self.model_list.setCurrentRow(0)
        name = current.name if current is not None else "none"
        self.current_label.setText(f"Current model: {name}")
        # (each once: the lists refill at every change of the library)
        self.session.library_watch.tell_problems(library.problems)

    def _model_changed(self, info) -> None:
        """A model was made current (Use, Train's Accept or Roll back, the Segment panel):
        the list selects it and shows its card, rather than keeping the model selected
        before, which read as if the old model were still the one in use."""
        self.refresh()
        if info is not None:
            self._select(info.path)

    def selected(self):
        item = self.model_list.currentItem() if hasattr(self, "model_list") else None
        return None if item is None else item.data(256)

    def _show_card(self) -> None:
        info = self.selected()
        self.card.setMarkdown(card_markdown(info, self.session.library) if info is not None else "")
        self._enable_actions()

    def _enable_actions(self) -> None:
        """Rename and Remove for the user's and the project's models (a bundled one is
        read-only: Duplicate makes a copy that can be renamed); no second copy while one
        runs, and nothing renamed or removed that the copy may be reading."""
        info, idle = self.selected(), self.worker is None
        editable = info is not None and info.source in EDITABLE
        self.rename_button.setEnabled(editable and idle)
        self.remove_button.setEnabled(editable and idle)
        read_only = not editable and info is not None
        self.rename_button.setToolTip(
            f"{info.name} is read-only: duplicate it, then rename the copy" if read_only else
            "Give the model another name; the default setting, the project and the models "
            "fine-tuned from it follow")  # fmt: skip
        self.remove_button.setToolTip(
            f"{info.name} is read-only: only your own and the project's models can be removed"
            if read_only else "Delete the model's folder (asked first)")  # fmt: skip
        for button in (self.duplicate_button, self.export_button):
            button.setEnabled(info is not None and idle)
        self.import_button.setEnabled(idle)
        self.remove_rejected_button.setEnabled(idle)
        self.remove_old_button.setEnabled(idle and bool(self.old_versions))

    # ---- actions ---------------------------------------------------------------------------
    def _run(self, action) -> None:
        try:
            action()
        except UserError as error:
            self.session.host.notify(str(error), "error")

    def _require_selected(self):
        info = self.selected()
        if info is None:
            raise UserError("select a model in the list first")
        return info

    def use_selected(self) -> None:
        model_actions.choose_model(self.session, self._require_selected())

    def set_default_selected(self) -> None:
        info = self.session.library.set_default(self._require_selected().ref)
        self.session.host.notify(f"{info.name} is now the default model")
        self.refresh()

    def rename_selected(self, name: str):
        """Rename the selected model (see ``model_actions.rename_model``); it stays selected."""
        info = self._require_selected()
        renamed = model_actions.rename_model(self.session, info, name)
        self._select(renamed.path)
        self.session.host.notify(f"renamed {info.name} to {renamed.name}")
        return renamed

    def _rename_dialog(self) -> None:
        info = self._require_selected()
        name, ok = QInputDialog.getText(self, "Rename model", f"New name for {info.name}:",
                                        QLineEdit.Normal, info.name)  # fmt: skip
        if ok and name != info.name:
            self.rename_selected(name)

    def remove_selected(self) -> None:
        info = self._require_selected()
        model_actions.remove_model(self.session, info)  # (refused while a window uses it)
        self.session.host.notify(f"removed {info.name} ({info.ref})")  # (as the other actions)
        self.session.models_listed.emit()  # (no panel may offer it any more)

    def _remove_if_confirmed(self) -> None:
        """Removing deletes the folder (a fine-tuned round's weights are hours of work):
        asked first, "No" the default; a removal refused is said before asking."""
        info = self._require_selected()
        refusal = model_actions.removal_refused(self.session, info)
        if refusal is not None:
            raise UserError(refusal)
        answer = QMessageBox.question(
            self, "Remove model", f"Delete the model {info.name} ({info.ref}) and its folder\n"
            f"{info.path}?\nThis cannot be undone.", QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No)  # fmt: skip
        if answer == QMessageBox.Yes:
            self.remove_selected()

    # ---- copies, in a worker thread ------------------------------------------------------------
    def import_folder(self, folder: str | Path) -> None:
        """Check and copy a model folder in a worker thread (building the network to check
        its weights and copying them take seconds for a big one); ``imported(info)`` after,
        a notification naming the file at fault when it cannot be used."""
        self._copy_in_worker(model_actions.iter_import_told(self.session.library, Path(folder)),
                             f"Importing {folder}", f"importing the model {folder}",
                             self._on_imported)  # fmt: skip

    def _on_imported(self, outcome) -> None:
        """Tell what was imported (under which name, where its own was taken), or that the
        very same model was there already; either way it is the one selected."""
        info, text, new = outcome
        self.session.host.notify(text)
        self.session.models_listed.emit()
        self._select(info.path)
        if new:
            self.imported.emit(info)

    def duplicate_selected(self) -> None:
        """Copy the selected model as "<name> copy" in a worker thread; ``duplicated(info)``
        after, and the copy is selected."""
        info = self._require_selected()
        self._copy_in_worker(model_actions.iter_duplicate(self.session.library, info.ref),
                             f"Duplicating {info.name}", f"duplicating the model {info.name}",
                             self._on_duplicated)  # fmt: skip

    def _on_duplicated(self, info) -> None:
        self.session.host.notify(f"duplicated as {info.name} ({info.ref})")
        self.session.models_listed.emit()
        self._select(info.path)
        self.duplicated.emit(info)

    def export_selected(self, destination: str | Path) -> None:
        """Copy the selected model into ``destination`` in a worker thread (a new folder
        there, made whole or not at all); a notification names where it went, or why not."""
        info = self._require_selected()
        self._copy_in_worker(
            model_actions.iter_export(self.session.library, info.ref, Path(destination)),
            f"Exporting {info.name} to {destination}", f"exporting the model {info.name}",
            self._on_exported)  # fmt: skip

    def _on_exported(self, folder) -> None:
        self.session.host.notify(f"exported to {folder}")
        self.exported.emit(folder)

    def _copy_in_worker(self, generator, action: str, task: str, on_result) -> None:
        """One copy at a time; closing the window while it runs asks first."""
        if self.worker is not None:
            generator.close()
            raise UserError("another model is being copied; wait until it has finished")
        self.worker = start_engine(
            generator, notify=self.session.host.notify, action=action, on_result=on_result,
            on_finished=self._on_copy_finished, host=self.session.host, task=task,
            worker_type=FileWorker)  # fmt: skip
        self._enable_actions()

    def _on_copy_finished(self) -> None:
        self.worker = None
        self._enable_actions()

    def _select(self, path: Path) -> None:
        for row in range(self.model_list.count()):
            if self.model_list.item(row).data(256).path == path:
                self.model_list.setCurrentRow(row)

    def _import_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder to import")
        if folder:
            self._run(lambda: self.import_folder(folder))

    def _export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the model into this folder")
        if folder:
            self._run(lambda: self.export_selected(folder))
