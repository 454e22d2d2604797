"""The Models panel: the models available with their card; use, set default, import,
export, remove; and a tab to build a new network from the family (``network_builder``)."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QLabel,
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
from unet_studio.app.qt.network_builder import NetworkBuilder
from unet_studio.app.qt.workers import start_engine


def card_markdown(info) -> str:
    """The card to show: the model's card.md, else one built from its config, with the
    facts the list needs (architecture, data, metrics, parent, date) always on top."""
    data = info.training_data
    if isinstance(data, list | tuple):
        data = "; ".join(map(str, data))
    elif isinstance(data, dict):
        data = ", ".join(f"{k}: {v}" for k, v in data.items())
    facts = [
        f"**{info.name}** — `{info.ref}`",
        f"- architecture: {info.architecture} "
        + ", ".join(f"{k}={v}" for k, v in sorted(info.architecture_config.items())
                    if k in ("spatial_dims", "base_channels", "depth", "norm", "encoder")),
        f"- training data: {data or 'not recorded'}",
        *_metrics_lines(info.metrics),
        f"- parent: {info.parent or 'none'}",
        f"- date: {info.date or 'unknown'}",
        f"- folder: `{info.path}`",
    ]  # fmt: skip
    card = "\n\n---\n\n" + info.card_text() if info.card_path is not None else ""
    return "\n".join(facts) + card


def _num(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _metrics_lines(metrics: dict) -> list[str]:
    """"- metrics: f1_50 0.810", or for scores per data set (and model / baseline) a nested
    list with 3 decimals, not one line of raw dictionaries."""
    plain = {k: v for k, v in metrics.items() if not isinstance(v, dict)}
    lines = ["- metrics: " + (_flat(plain) if plain else "none" if not metrics else "")]
    lines += _nested_lines({k: v for k, v in metrics.items() if isinstance(v, dict)}, "    ")
    return lines


def _nested_lines(groups: dict, indent: str) -> list[str]:
    lines = []
    for key, group in groups.items():
        about = group.get("description")
        plain = {k: v for k, v in group.items() if k != "description" and not isinstance(v, dict)}
        head = f"{indent}- {key}" + (f" ({about})" if about else "") + ":"
        lines.append(f"{head} {_flat(plain)}" if plain else head)
        lines += _nested_lines({k: v for k, v in group.items() if isinstance(v, dict)}, indent + "    ")
    return lines


def _flat(values: dict) -> str:
    return ", ".join(f"{k} {_num(v)}" for k, v in values.items())


def _iter_import(library, folder: Path):
    yield "importing"
    return library.import_model(folder)


class ModelsPanel(QWidget):
    """Lists the session library's models; the card of the selected one on the right.
    ``imported(info)`` after a model folder was imported."""

    imported = Signal(object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.worker = None  # the import running, or None
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_library(), "Library")
        self.builder = NetworkBuilder(session)
        self.tabs.addTab(self.builder, "New network")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        session.model_changed.connect(lambda _info: self.refresh())
        session.models_listed.connect(self.refresh)
        session.project_changed.connect(self.refresh)
        self.refresh()

    def _build_library(self) -> QWidget:
        page = QWidget()
        self.model_list = QListWidget()
        self.card = QTextBrowser(openExternalLinks=False)
        self.current_label = QLabel(wordWrap=True)
        self.use_button = QPushButton("Use")
        self.default_button = QPushButton("Set default")
        self.import_button = QPushButton("Import…")
        self.export_button = QPushButton("Export…")
        self.remove_button = QPushButton("Remove")
        grid = QGridLayout(page)
        grid.addWidget(self.current_label, 0, 0, 1, 3)
        grid.addWidget(self.model_list, 1, 0, 1, 3)
        for column, button in enumerate((self.use_button, self.default_button, self.remove_button)):
            grid.addWidget(button, 2, column)
        grid.addWidget(self.import_button, 3, 0)
        grid.addWidget(self.export_button, 3, 1)
        grid.addWidget(self.card, 4, 0, 1, 3)
        grid.setRowStretch(4, 1)
        self.model_list.currentItemChanged.connect(lambda *_: self._show_card())
        self.use_button.clicked.connect(lambda: self._run(self.use_selected))
        self.default_button.clicked.connect(lambda: self._run(self.set_default_selected))
        self.remove_button.clicked.connect(lambda: self._run(self._remove_if_confirmed))
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
        for info in models:
            marks = []
            if current is not None and info.path == current.path:
                marks.append("current")
            if default is not None and info.path == default.path:
                marks.append("default")
            text = f"{info.name}  [{where_listed(info, models)}]" + (f"  ({', '.join(marks)})" if marks else "")
            item = QListWidgetItem(text)
            item.setData(256, info)  # Qt.UserRole
            self.model_list.addItem(item)
            if selected is not None and info.path == selected.path:
                self.model_list.setCurrentItem(item)
        if self.model_list.currentItem() is None and self.model_list.count():
            self.model_list.setCurrentRow(0)
        name = current.name if current is not None else "none"
        self.current_label.setText(f"Current model: {name}")
        for problem in library.problems:
            self.session.host.notify(problem, "warning")

    def selected(self):
        item = self.model_list.currentItem() if hasattr(self, "model_list") else None
        return None if item is None else item.data(256)

    def _show_card(self) -> None:
        info = self.selected()
        self.card.setMarkdown(card_markdown(info) if info is not None else "")
        self.remove_button.setEnabled(info is not None and info.source in ("user", "project"))

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
        self.session.set_model(self._require_selected())

    def set_default_selected(self) -> None:
        info = self.session.library.set_default(self._require_selected().ref)
        self.session.host.notify(f"{info.name} is now the default model")
        self.refresh()

    def remove_selected(self) -> None:
        info = self._require_selected()
        if self.session.model is not None and self.session.model.path == info.path:
            raise UserError("this model is in use; choose another one first")
        self.session.library.remove_model(info.ref)
        self.session.models_listed.emit()  # (no panel may offer it any more)

    def _remove_if_confirmed(self) -> None:
        """Removing deletes the folder (a fine-tuned round's weights are hours of work):
        asked first, "No" the default."""
        info = self._require_selected()
        answer = QMessageBox.question(
            self, "Remove model", f"Delete the model {info.name} ({info.ref}) and its folder\n"
            f"{info.path}?\nThis cannot be undone.", QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No)  # fmt: skip
        if answer == QMessageBox.Yes:
            self.remove_selected()

    def import_folder(self, folder: str | Path) -> None:
        """Check and copy a model folder in a worker thread (building the network to check
        its weights and copying them take seconds for a big one); ``imported(info)`` after,
        a notification naming the file at fault when it cannot be used."""
        if self.worker is not None:
            return
        self.import_button.setEnabled(False)
        self.worker = start_engine(
            _iter_import(self.session.library, Path(folder)), notify=self.session.host.notify,
            action=f"Importing {folder}", on_result=self._on_imported,
            on_finished=self._on_import_finished, host=self.session.host,
            task=f"importing the model {folder}",
        )  # fmt: skip

    def _on_imported(self, info) -> None:
        self.session.host.notify(f"imported {info.name} as {info.ref}")
        self.session.models_listed.emit()
        self.imported.emit(info)

    def _on_import_finished(self) -> None:
        self.worker = None
        self.import_button.setEnabled(True)

    def export_selected(self, destination: str | Path) -> Path:
        target = self.session.library.export_model(self._require_selected().ref, destination)
        self.session.host.notify(f"exported to {target}")
        return target

    def _import_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder to import")
        if folder:
            self._run(lambda: self.import_folder(folder))

    def _export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the model into this folder")
        if folder:
            self._run(lambda: self.export_selected(folder))
