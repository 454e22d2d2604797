"""The Train panel once a round has finished, or the model changed under it: the verdict
in the status line, Accept, Reject, Roll back and the list of earlier versions. Mixed into
``TrainPanel``; apart from it because this half reviews a round's outcome (and keeps what
the panel says true as models change, are renamed or accepted), while the panel itself
starts, steers and follows the round.
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Qt

from unet_studio.app.errors import UserError
from unet_studio.app.qt import train_kind, train_layout, train_logic, train_pace, train_versions
from unet_studio.app.qt.progress_display import set_progress
from unet_studio.app.qt.train_verdict import verdict_basis
from unet_studio.models.training.progress import stop_text

# The idle status line of labels the current model cannot learn from (``train_kind``).
CANNOT_TRAIN = "Cannot train: "


def left_out_note(result) -> str:
    """The round's word on reviewed labels that are no class of its semantic model (left
    out of training: ``models.training.unknown_classes``), "" when there were none."""
    notes = (result.data_summary or {}).get("unknown_class_notes") or []
    return "".join(f" Warning: {note}." for note in notes)


class RoundReview:
    """Uses the panel's ``session``, ``round``, ``status``, ``plot``, ``metrics``,
    ``progress``, its widgets (``accept_button``, ``reject_button``, ``versions_combo``,
    ``rollback_button``, ``repredict_check``), ``accepted``, ``_state``, ``_save_round``
    and ``_set_state``, and ``WaitingRound``'s
    ``restore_waiting_round``, ``_round_left_behind`` and ``_leave_project``."""

    # An Accept's status before and while its re-run runs (the second one shown meanwhile),
    # and the name of the image it segments again.
    _resegmenting: tuple[str, str, str] | None = None
    _versions_of = None  # the current model's path when the Roll back list was filled

    def _show_verdict(self) -> None:
        result = self.round.result
        if self.round.saved is None:
            return  # (the status says why the save failed; that stays until it is saved)
        if self.round.recorded is not None:  # (read back from the history: ``train_waiting``)
            self._show_recorded_verdict()
            return
        verdict = "better than" if train_logic.is_better(result) else "not better than"
        steps = f"{result.steps} step" + ("" if result.steps == 1 else "s")
        if self.round.resumed_at:
            steps += f", resumed at step {self.round.resumed_at}"
        pace = train_pace.pace_seconds(self.round.history)  # (measured in this round)
        self.status.setText(f"Finished after {steps} ({stop_text(result.stopped)}); "
                            f"the new model is {verdict} {self.round.parent.name} on held-out "
                            f"data{verdict_basis(result)}."
                            + train_pace.short_round_note(result, self.round.parent, pace)
                            + train_pace.overrun_note(result, pace)
                            + train_logic.held_out_caveat(result)
                            + left_out_note(result)
                            + self._switched_meanwhile())  # fmt: skip

    def _review_button(self):
        """The button that takes the focus once a round waits for its verdict: Accept for a
        round better than its starting model, Reject otherwise. Enter on a focused Accept
        after a "not better than" verdict (pushed below the fold by the verdict on a laptop)
        put a worse model in use unseen."""
        result = self.round.result if self.round is not None else None
        better = result is not None and train_logic.is_better(result)
        return self.accept_button if better else self.reject_button

    def _switched_meanwhile(self) -> str:
        """What the verdict of a round must add when the user chose another model while it
        trained: which model is current, and what Accept does."""
        current = self.session.model
        if current is None or current.path == self.round.parent.path:
            return ""
        return (f" The current model is now {current.name}; Accept would use the one fine-tuned "
                f"from {self.round.parent.name} instead.")

    def _model_changed(self, info) -> None:
        """Another model became current. A round's status, metrics and plot describe the
        model it started from: once that is no longer the current one (and the change is
        not this round's own Accept or Rollback), they are cleared, so that nothing says
        "not better than A" while B is in use. A round that is still training keeps them: it
        names its model, and its verdict says which model is current (``_switched_meanwhile``).
        The Roll back list is filled after: a round set aside here is an earlier version now."""
        if self._round_left_behind():  # (a project opening: it leaves, see ``train_waiting``)
            self._leave_project()  # (``_project_opened`` follows and says where it waits)
        if self._state == "running":
            pass
        elif self._round_is_about(info):
            if self._state == "review":
                self._show_verdict()  # (which model is current, said again)
        else:
            self._set_round_aside(info)
        self.refresh_versions()

    def _set_round_aside(self, info) -> None:
        """``_model_changed`` to a model the last round is not about: its outcome is cleared
        and the status says what became of a round that waited for its verdict."""
        waiting = self.round if self._state == "review" else None
        self._clear_round()
        text = train_logic.ready_text(info, waiting, self.session.project)
        # (a model of the other kind than the labels being corrected: said now, not only
        # when Train is pressed and refuses)
        self.status.setText(self._unless_refused(text))

    def _clear_round(self) -> None:
        """No round on screen: its curve, figures and progress go, Train is offered."""
        self.round = None
        self.plot.clear()
        train_layout.show_metrics(self.metrics, {}, {})
        set_progress(self.progress, 0)
        self._set_state("idle")

    def _labels_kind_changed(self) -> None:
        """The image, labels or reviewed marks being corrected changed while no round runs
        or awaits a verdict: the "Cannot train" line follows them (it named another image's
        labels after a switch, and a fitting model's ready line stayed over labels it does
        not fit). The first-use line ("Correct some objects and mark them reviewed") gives
        way to the model's ready line once something is reviewed: a project opened with
        reviewed marks whose model this library lacks changes no model (the one in use
        stays), and that line stayed over half an image reviewed. Other lines (a verdict,
        "Now using ...") are left as they are."""
        if self._state != "idle" or self.session.model is None:
            return
        refusal = train_kind.train_refusal(self.session)
        text = self.status.text()
        if refusal is not None:
            self.status.setText(f"{CANNOT_TRAIN}{refusal}.")
        elif text.startswith(CANNOT_TRAIN) or text == "" or (
                text == train_layout.READY_TEXT and _anything_reviewed(self.session)):
            self.status.setText(self._unless_refused(
                train_logic.ready_text(self.session.model, None, self.session.project)))

    def _unless_refused(self, ready: str) -> str:
        """The status line for the model's ``ready`` line: why Train refuses the labels
        instead, or nothing while the channel line above Train says why it refuses the
        image (a "Ready to fine-tune" under it contradicted it: QA)."""
        from unet_studio.app.qt.train_channel_line import train_channel_refusal

        refusal = train_kind.train_refusal(self.session)
        if refusal is not None:
            return f"{CANNOT_TRAIN}{refusal}."
        return "" if train_channel_refusal(self.session) is not None else ready

    def _model_renamed(self, old, new) -> None:
        """The Models panel renamed a model: a round from it (or that made it) follows, and
        its verdict names it anew (the lists are refilled by ``models_listed``)."""
        if self.round is None:  # ("Now using <old name>." after an Accept: the new name)
            if old.name != new.name and old.name in self.status.text():
                self.status.setText(self.status.text().replace(old.name, new.name))
            return
        self.round.follow_rename(old, new)
        if self._state == "review":
            self._show_verdict()

    def _round_is_about(self, info) -> bool:
        """``info`` is the model the last round started from, or the one it made."""
        if self.round is None or info is None:
            return False
        own = (self.round.parent.path, self.round.saved)
        return Path(info.path).resolve() in {Path(path).resolve() for path in own if path}

    # ---- after training --------------------------------------------------------------------
    def accept(self, automatically: bool = False) -> None:
        """The round's model becomes current (``automatically``: by the auto-accept setting,
        the round being better; said so, with the figures, as the verdict is replaced)."""
        if self.round is None or self.round.result is None:
            raise UserError("no fine-tuned model waiting to be accepted")
        if self.round.saved is None and not self._save_round():
            return  # (still unsaved: the status says why, the round waits)
        session, round_ = self.session, self.round
        session.set_model(round_.saved)
        project = round_.project_now(session)  # (not a project opened meanwhile)
        if project is not None:
            project.log("accept model", model=str(round_.saved))
        text = f"Now using {session.model.name}{_library_model_unchanged(round_, project)}."
        if automatically:
            # (the basis's own parentheses as the sentence's: none nested in others)
            text = (f"Accepted automatically: better on held-out data"
                    f"{verdict_basis(round_.result)}. {text}")
        try:  # (after the model is in use: a replay that cannot be written must not undo that)
            # (a round read back from the history has no examples in memory: ``accept_note``)
            aside = None if round_.recorded else train_logic.remember_examples(project, round_.examples)
            text += self.accept_note(round_)
            if aside is not None:
                text += f" The replay buffer could not be read: it was set aside as {aside.name}."
        except (UserError, OSError, ValueError) as error:
            # (a sentence of its own: the error's text has parentheses of its own)
            text += (f" Its training data could not be written for later rounds: "
                     f"{str(error).rstrip('.')}. Later rounds revisit it all the same while "
                     "the project is open, and it is written with the next round's.")
            session.host.notify(text, "warning")
        # (an image the user took out of the project is no longer worked on in it: its
        # labels on screen, no longer saved nor protected by marks, are left as they are)
        left_out = session.current_left_out()
        repredict = self.repredict_check.isChecked() and left_out is None
        if self.repredict_check.isChecked() and left_out is not None:
            text += (f" {left_out} was removed from the project: it was not segmented again "
                     "(the Segment panel's Run segments it with this model).")
        if repredict:  # (said: the labels are about to change)
            # (named: in a project of several images only the current one is segmented again)
            image = session.host.current_image()
            name = image.name if image is not None else "the image"
            self._resegmenting = (text, text + f" Segmenting {name} again with it (Segment "
                                  "panel).", name)
            text = self._resegmenting[1]
        self.status.setText(text)
        self.round = None
        self._set_state("idle")
        self.accepted.emit(round_.saved)
        if repredict:
            session.predict_requested.emit()

    def _prediction_ended(self, shown: bool) -> None:
        """The Segment run an Accept asked for ended: the status says so, instead of
        "Segmenting the image again" long after it was."""
        resegmenting, self._resegmenting = self._resegmenting, None
        if resegmenting is None or self.status.text() != resegmenting[1]:
            return  # (the status says something newer: another round, another model)
        text, name = resegmenting[0], resegmenting[2]
        if shown:
            self.status.setText(f"{text} Segmented {name} again with it.")
        else:
            self.status.setText(f"{text} Segmenting {name} again with it was stopped "
                                "(Segment panel); Run segments it with this model.")

    def reject(self) -> None:
        project = None if self.round is None else self.round.project_now(self.session)
        if project is not None and self.round.saved is not None:  # (an unsaved round: no model)
            project.log("reject model", model=str(self.round.saved))
        self.round = None
        self.status.setText("Kept the current model.")
        self._set_state("idle")
        # (a round from a project closed meanwhile kept the open one's waiting round off
        # the panel: it comes now)
        if self.restore_waiting_round():
            self.status.setText(f"Kept the current model. {self.status.text()}")
        self.refresh_versions()  # (a rejected round is no earlier version)
        self.session.models_listed.emit()  # (the Models panel offers to remove rejected rounds)

    def _is_ancestor(self, info) -> bool:
        """Was the model in use trained (at some remove) from ``info``?"""
        current = self.session.model
        if current is None:
            return False
        try:
            ref = current.ref if current.source != "folder" else current.path
            return any(m.path == info.path for m in self.session.library.lineage(ref)[1:])
        except UserError:
            return False

    def rollback(self) -> None:
        info = self.versions_combo.currentData()
        if info is None:
            raise UserError("no earlier version to roll back to")
        waiting = self.round if self._state == "review" else None
        # ("Rolled back" to one the model in use came from; a later round, after a roll
        # back, or another branch: "Switched to", QA read "Rolled back to" a newer one)
        verb = "Rolled back to" if self._is_ancestor(info) else "Switched to"
        self.session.set_model(info)
        # (a round that waited for its verdict was set aside: where it stays is said again)
        aside = waiting if waiting is not None and self.round is None else None
        self.status.setText(f"{verb} {info.name}.{train_logic.set_aside_text(aside)}")
        if self.repredict_check.isChecked():
            self.session.predict_requested.emit()

    def refresh_versions(self) -> None:
        """Fill the Roll back list (see ``train_versions.earlier_versions``), keeping the
        version chosen while it is still offered for the same current model, else choosing
        the first: the newest version before it (after an Accept the bundled default, first
        chosen when it was the only one, stayed chosen, and one click went back to it)."""
        current = self.session.model.path if self.session.model is not None else None
        chosen = self.versions_combo.currentData() if current == self._versions_of else None
        self._versions_of = current
        self.versions_combo.clear()
        # (a round saved and not yet accepted or rejected: no earlier version of anything)
        waiting = self.round.saved if self.round is not None and self._state != "idle" else None
        for info in train_versions.earlier_versions(self.session, waiting):
            self.versions_combo.addItem(f"{info.name} ({_day_and_time(info.date)})", info)
            self.versions_combo.setItemData(self.versions_combo.count() - 1,
                                            f"{info.name}\n{info.path}", Qt.ItemDataRole.ToolTipRole)  # fmt: skip
            if chosen is not None and info.path == chosen.path:
                self.versions_combo.setCurrentIndex(self.versions_combo.count() - 1)
        if self.versions_combo.currentIndex() < 0 and self.versions_combo.count():
            # (with a placeholder text Qt selects nothing on its own: one is the choice)
            self.versions_combo.setCurrentIndex(0)
        self._enable_rollback()

    def _enable_rollback(self) -> None:
        # Nothing to roll back to (a fresh start from the bundled model): say so rather than
        # offer a button that can only answer with an error.
        offered = self.versions_combo.count() > 0
        self.versions_combo.setEnabled(offered)
        self.rollback_button.setEnabled(offered and self._state != "running")
        self.rollback_button.setToolTip(
            "Use the version chosen on the left again" if offered else
            "No earlier version yet: the models of this project's rounds and the model a "
            "fine-tuned one came from are offered here")  # fmt: skip


def _anything_reviewed(session) -> bool:
    """Are some pixels of the image being corrected marked reviewed?"""
    return session.reviewed is not None and session.reviewed.any()


def _day_and_time(date: str | None) -> str:
    """"2026-12-06 11:34" from an ISO date "2026-12-06T11:34:23+00:00" (a plain day stays
    as it is): the seconds and time zone pushed the name out of the narrow list."""
    if not date:
        return "undated"
    day, _, time = date.partition("T")
    return f"{day} {time[:5]}" if time else day


def _library_model_unchanged(round_, project) -> str:
    """After an Accept of a round fine-tuned from a model of the user's library and saved
    among the project's models: that the library model itself did not change. A lab
    sharing one model between projects took Accept for an update of it, while other
    projects and the command line keep using it as it was. (A bundled model never changes.)"""
    parent = round_.parent
    if project is None or getattr(parent, "source", None) != "user":
        return ""
    saved = Path(round_.saved)
    if saved.parent.resolve() != Path(project.models_dir).resolve():
        return ""
    return (f", saved in project {project.path.name}; {parent.name} in your models is "
            "unchanged for other projects and the command line")
