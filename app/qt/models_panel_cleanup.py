"""The Models panel's buttons that free the disk of Train rounds: the model folders of the
rejected rounds (``rejected_rounds``) and the checkpoints stopped rounds left
(``leftover_checkpoints``), said with their count and size, removed after asking; and the
earlier accepted versions beyond the last N (``old_versions``), N chosen beside their
button. Apart from ``models_panel`` to keep that module to its list and its model actions."""

from __future__ import annotations

from qtpy.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QSpinBox, QWidget

from unet_studio.app.errors import UserError
from unet_studio.app.qt import leftover_checkpoints, old_versions, rejected_rounds
from unet_studio.app.qt.reflow_grid import ReflowRow
from unet_studio.app.qt.workers import engine_work_running

CLEANUP_TIP = ("Delete the folders of the Train rounds you rejected and have not used since, "
               "and the checkpoints that cancelled or stopped rounds of models no longer in "
               "use left behind (listed and asked first). Use takes a Reject back until then.")


def cleanup_button_text(rounds: list, leftovers: list) -> str:
    """"Remove rejected rounds (3, 13.2 MB)…", "Remove left-over checkpoints (1, 229.6 MB)…",
    or both with their total: the disk they hold is seen before it is freed."""
    if not leftovers:
        return f"Remove rejected rounds ({rejected_rounds.rounds_summary(rounds)})…"
    size = rejected_rounds.size_text(sum(left.size for left in leftovers))
    if not rounds:
        return f"Remove left-over checkpoints ({len(leftovers)}, {size})…"
    total = sum(found.size for found in rounds) + sum(left.size for left in leftovers)
    return (f"Remove rejected rounds ({len(rounds)}) and left-over checkpoints "
            f"({len(leftovers)}), {rejected_rounds.size_text(total)}…")


def cleanup_question(rounds: list, leftovers: list) -> str:
    """The question before removing, naming each with its size (rounds, then checkpoints)."""
    parts = ([rejected_rounds.rounds_question(rounds)] if rounds else []) + (
        [leftover_checkpoints.confirmation_lines(leftovers)] if leftovers else [])
    return "\n\n".join(parts) + rejected_rounds.CANNOT_BE_UNDONE


class CleanupActions:
    """Mixed into ModelsPanel (its ``session`` and ``remove_rejected_button``)."""

    def _show_rejected(self, rounds: list) -> None:
        """Show the button for ``rounds`` and the checkpoints left over now."""
        self.rejected = rounds
        self.leftovers = leftover_checkpoints.leftover_checkpoints(self.session)
        self.remove_rejected_button.setText(cleanup_button_text(rounds, self.leftovers))
        self.remove_rejected_button.setVisible(bool(rounds or self.leftovers))

    def remove_rejected_rounds(self, rounds: list | None = None,
                               leftovers: list | None = None) -> None:
        """Delete the folders of ``rounds`` and ``leftovers`` (default: those the button
        offers) that are still removable (``rejected_rounds.remove_rounds``,
        ``leftover_checkpoints.remove_checkpoints``); said, and the lists refilled."""
        if engine_work_running():  # (checked once: nothing is removed then, of either kind)
            raise UserError("rejected rounds and left-over checkpoints cannot be removed "
                            "while work runs in the background (a prediction, fine-tuning, "
                            "a copy or an export may be reading them); remove them when that "
                            "has finished")
        rounds = self.rejected if rounds is None else rounds
        leftovers = self.leftovers if leftovers is None else leftovers
        removed, problems = rejected_rounds.remove_rounds(self.session, rounds)
        cleared, more = leftover_checkpoints.remove_checkpoints(self.session, leftovers)
        if removed or cleared:
            self.session.host.notify(_removed_text(removed, cleared))
        for problem in problems + more:
            self.session.host.notify(f"not removed: {problem}", "warning")
        if removed:
            self.session.models_listed.emit()  # (every window's list: this one refills too)
        else:
            self.refresh()

    def _remove_rejected_if_confirmed(self) -> None:
        """Asked first, with the names and sizes, "No" the default: a round rejected by
        mistake, or one the user means to resume, may be among them."""
        rounds = rejected_rounds.removable_rounds(self.session)  # (as they are now)
        leftovers = leftover_checkpoints.leftover_checkpoints(self.session)
        if not rounds and not leftovers:  # (used again since the list was filled)
            self.session.host.notify("no rejected rounds to remove")
            self.refresh()
            return
        answer = QMessageBox.question(
            self, "Remove rejected rounds", cleanup_question(rounds, leftovers),
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)  # fmt: skip
        if answer == QMessageBox.Yes:
            self.remove_rejected_rounds(rounds, leftovers)


def _removed_text(removed: list, cleared: list) -> str:
    """"removed 2 rejected round(s) and the checkpoints of 1 stopped round(s), 240 MB freed"."""
    freed = sum(found.size for found in removed) + sum(left.size for left in cleared)
    said = ([f"{len(removed)} rejected round(s)"] if removed else []) + (
        [f"the checkpoints of {len(cleared)} stopped round(s)"] if cleared else [])
    return f"removed {' and '.join(said)}, {rejected_rounds.size_text(freed)} freed"


OLD_VERSIONS_TIP = ("Delete the project's earlier accepted model versions but the last ones "
                    "(how many: beside). Never the current model, one in use in a window or "
                    "the default; listed with their dates and sizes and asked first.")


def old_versions_row(panel) -> ReflowRow:
    """"[Remove old versions (5, 1.2 GB)…] Keep the last [3]": the button and its N, made
    on ``panel`` (``remove_old_button``, ``keep_spin``, ``keep_box``). A row that wraps:
    N goes below the button in a narrow dock instead of widening the panel past it."""
    panel.remove_old_button = QPushButton()
    panel.remove_old_button.setToolTip(OLD_VERSIONS_TIP)
    panel.keep_spin = QSpinBox()
    panel.keep_spin.setRange(0, 99)
    panel.keep_spin.setValue(old_versions.DEFAULT_KEEP)
    panel.keep_spin.setToolTip("How many accepted versions before the current model stay")
    panel.keep_box = QWidget()  # (the label and its number wrap together)
    keep = QHBoxLayout(panel.keep_box)
    keep.setContentsMargins(0, 0, 0, 0)
    keep.addWidget(QLabel("Keep the last", buddy=panel.keep_spin))
    keep.addWidget(panel.keep_spin)
    panel.old_versions: list = []  # the OldVersions the button offers to remove
    row = ReflowRow()
    row.addWidget(panel.remove_old_button, 1)
    row.addWidget(panel.keep_box)
    return row


def old_versions_button_text(versions: list, keep: int) -> str:
    """"Remove old versions (5, 1.2 GB)…", or that none is beyond the last ``keep``."""
    if not versions:
        return f"No old versions beyond the last {keep}"
    return f"Remove old versions ({old_versions.versions_summary(versions)})…"


class OldVersionsActions:
    """Mixed into ModelsPanel (its ``session``, ``keep_spin`` and ``remove_old_button``)."""

    def _show_old_versions(self) -> None:
        """The row shows while the project has earlier accepted versions, the button
        enabled while some are beyond the last N (the user sees N before lowering it)."""
        keep = self.keep_spin.value()
        earlier = old_versions.accepted_versions(self.session)
        self.old_versions = old_versions.removable_versions(self.session, keep, earlier)
        self.remove_old_button.setText(old_versions_button_text(self.old_versions, keep))
        self.remove_old_button.setEnabled(bool(self.old_versions) and self.worker is None)
        for widget in (self.remove_old_button, self.keep_box):
            widget.setVisible(bool(earlier))

    def remove_old_versions(self, versions: list | None = None) -> None:
        """Delete the folders of ``versions`` (default: those the button offers) that are
        still removable with the N shown (``old_versions.remove_versions``); said, and
        every window's list refilled."""
        keep = self.keep_spin.value()
        versions = self.old_versions if versions is None else versions
        removed, problems = old_versions.remove_versions(self.session, versions, keep)
        if removed:
            freed = rejected_rounds.size_text(sum(found.size for found in removed))
            self.session.host.notify(f"removed {len(removed)} old model version(s), keeping "
                                     f"the last {keep}, {freed} freed")
        for problem in problems:
            self.session.host.notify(f"not removed: {problem}", "warning")
        if removed:
            self.session.models_listed.emit()
        else:
            self._show_old_versions()

    def _remove_old_versions_if_confirmed(self) -> None:
        """Asked first, naming each version with its date and size, "No" the default:
        Roll back offers them, and each is hours of training."""
        refusal = old_versions.removal_refused(self.session)  # (said before asking)
        if refusal is not None:
            raise UserError(refusal)
        keep = self.keep_spin.value()
        versions = old_versions.removable_versions(self.session, keep)  # (as they are now)
        if not versions:
            self.session.host.notify(f"no old model versions beyond the last {keep} to remove")
            self._show_old_versions()
            return
        answer = QMessageBox.question(
            self, "Remove old model versions", old_versions.versions_question(versions, keep)
            + rejected_rounds.CANNOT_BE_UNDONE, QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No)  # fmt: skip
        if answer == QMessageBox.Yes:
            self.remove_old_versions(versions)
