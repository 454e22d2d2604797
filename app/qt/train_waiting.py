"""A Train round left waiting for its verdict by an earlier session (the app closed or
killed after Train, the project closed and reopened, copied or moved): read back from the
project's history (``train_versions.waiting_round``) and shown as the panel showed it, in
its "review" state, so that Accept and Reject still decide it. Without this the round came
back as nothing: its model was offered by Roll back as an "earlier version", and rolling
back to it used it without the Accept the history lacked.

What cannot come back: the round's network in memory (its model folder holds it), its
loss curve, and its training examples (see ``WaitingRound.accept_note``).

A round waits in its project's history, so it leaves the panel with its project: opening
another one (or closing it) shows that project's own waiting round instead, and the round
comes back when its project is opened again (``WaitingRound._leave_project``). Its Accept
or Reject is never clicked while another project is open (it would be logged nowhere, and
the round would come back waiting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from unet_studio.app.errors import InputFileError, UserError
from unet_studio.app.qt import train_kind, train_layout, train_logic
from unet_studio.app.qt.progress_display import set_progress
from unet_studio.app.qt.session_autosave import same_folder
from unet_studio.app.qt.train_review import (
    CANNOT_TRAIN,
    _day_and_time,
    left_out_note,
    verdict_basis,
)
from unet_studio.app.qt.train_versions import history_of, waiting_round


@dataclass
class RecordedResult:
    """What the history (or, for entries logged before it kept them all, the model's own
    lineage) recorded of a round's FinetuneResult: what its verdict and metrics table
    read, no network and no reports."""

    metrics_before: dict
    metrics_after: dict
    steps: int
    data_summary: dict
    stopped: str
    extra: dict = field(default_factory=dict)

    @property
    def improved(self) -> bool | None:
        """As ``FinetuneResult.improved``: did the held-out loss go down?"""
        before, after = self.metrics_before.get("val_loss"), self.metrics_after.get("val_loss")
        return None if before is None or after is None else after < before


class DamagedRound(UserError):
    """The round waiting for its verdict has a model folder whose weights do not read
    (garbage, cut short, gone): there is nothing to accept, as for a folder removed."""

    def __init__(self, folder: Path, error: InputFileError):
        self.folder = folder
        super().__init__(f"The model of the round waiting for a verdict, {folder}, is damaged: "
                         f"{error.path.name} {error.problem}. It cannot be used: remove it in "
                         "the Models panel.")


def recorded_round(session) -> train_logic.TrainRound | None:
    """The round of the session's project waiting for its verdict, as the panel tracks a
    round (saved, finished, of that project); None when none waits (or its folder no longer
    reads as a model). ``DamagedRound`` when its weights do not read: accepted, it was made
    current without a word and failed at the first Segment or Train."""
    from unet_studio.app.weights_header import check_safetensors_header
    from unet_studio.models.weights import WEIGHTS_FILE

    project, library = session.project, session.library
    found = waiting_round(history_of(project), library)
    if found is None:
        return None
    entry, folder = found
    try:
        info = library.get(folder)
    except UserError:  # (damaged since: nothing to accept; the library says why)
        return None
    try:  # (the header only, as ``steps_in_checkpoint``: no torch, no weights read)
        check_safetensors_header(Path(folder) / WEIGHTS_FILE)
    except InputFileError as error:
        raise DamagedRound(Path(folder), error) from None
    return train_logic.TrainRound(
        parent=_parent_of(info, library), pending=[], checkpoint_dir=None,
        result=_recorded_result(entry, info.metadata), saved=Path(folder), project=project,
        recorded=entry.get("time") or info.date or "",
    )  # fmt: skip


def _recorded_result(entry: dict, metadata: dict) -> RecordedResult:
    """From the "fine-tune" entry; what older entries lack (the scores before, and all of
    them unrounded) from the lineage the model folder keeps (``lineage_metadata``)."""
    lineage = metadata.get("finetune") or {}
    before = entry.get("metrics_before", lineage.get("metrics_before", metadata.get("metrics_before")))
    after = entry.get("metrics") if "metrics_before" in entry else None
    return RecordedResult(
        metrics_before=dict(before or {}),
        metrics_after=dict(after or lineage.get("metrics_after") or metadata.get("metrics") or {}),
        steps=int(entry.get("steps", lineage.get("steps", 0)) or 0),
        data_summary=dict(entry.get("data") or lineage.get("data") or {}),
        stopped=entry.get("stopped") or lineage.get("stopped") or "",
    )  # fmt: skip


def _parent_of(info, library):
    """The model the round started from: the library's, when it has it (by its identity),
    else one standing for it as the lineage names it. In another user's studio home that
    lacks it (a copied project), the round still waits: its own folder is in the project's
    models, and its verdict is against the scores the parent had then, which it recorded."""
    from unet_studio.app.model_folder import ModelInfo
    from unet_studio.models.weights import IDENTITY_KEY

    record = info.metadata.get("parent") or {}
    for ref in filter(None, (record.get("ref"), record.get("path"))):
        try:
            return library.find(ref, record.get(IDENTITY_KEY))
        except UserError:
            continue
    path = Path(record.get("path") or record.get("ref") or info.parent or "")
    name = record.get("name") or path.name or "its parent"
    return ModelInfo(ref=str(record.get("ref") or path), name=name, source="folder", path=path,
                     architecture=info.architecture)  # fmt: skip


# Written in the loss plot of a round read back from the history (``RoundPlot``): an empty
# frame read as a round that had learnt nothing.
CURVE_NOT_KEPT = "This round's loss curve was not kept: only its figures, below, were saved with it."


class WaitingRound:
    """Mixed into ``TrainPanel`` (with ``RoundReview``: uses the panel's ``session``,
    ``round``, ``worker``, ``_state``, ``status``, ``metrics``, ``plot``, ``progress``,
    ``_set_state``, ``refresh_versions``, ``_clear_round`` and ``_switched_meanwhile``)."""

    # The project whose rounds the panel shows: the one open when it last looked (a
    # project being opened is already the session's while the model it brings changes).
    _project_shown = None
    _told_damaged: frozenset = frozenset()  # the damaged rounds' folders said (once each)
    # (the project opened, what became of the round it replaced) until ``_project_opened``
    _left_note: tuple | None = None

    def _project_opened(self) -> None:
        """A project was opened (or closed): a round the one before left waiting goes with
        it (said), this one's waiting round comes back (while no round runs or waits here),
        and the Roll back list is this project's."""
        self._leave_project()
        left, self._left_note = self._left_note, None
        note = left[1] if left is not None and left[0] is self.session.project else ""
        if self.restore_waiting_round() and note:
            self.status.setText(f"{self.status.text()} {note}")  # (both said)
        elif note:
            self.status.setText(self._idle_text(self.session.model, note))
        self.refresh_versions()

    def _round_left_behind(self) -> bool:
        """Is the round on screen saved by the project shown until now, which is no longer
        the one open? (A round still running, or finished after its project closed, or
        never saved, is no project's round: it stays, and goes to the user's models.)"""
        round_ = self.round
        return (self._state == "review" and round_ is not None and round_.saved is not None
                and round_.project is not None and round_.project is self._project_shown
                and self.session.project is not round_.project)  # fmt: skip

    def _leave_project(self) -> None:
        """Follow the session to the project open now: the round the project shown until
        now left waiting leaves the panel, and what became of it is kept for the status
        (``_left_note``, said by ``_project_opened``). The same folder opened again (another
        Project object) keeps it on screen with its examples: its verdict is logged there."""
        round_, old, now = self.round, self._project_shown, self.session.project
        behind = self._round_left_behind()
        self._project_shown = now
        if not behind:
            return
        if now is not None and same_folder(now.path, old.path):
            found = waiting_round(history_of(now), self.session.library)
            if found is not None and Path(found[1]) == Path(round_.saved).resolve():
                round_.project = now
                return
        self._clear_round()
        self._left_note = (now, _left_text(round_, old, self.session.library))

    def _idle_text(self, info, note: str) -> str:
        """The idle status with ``note`` (what became of a round) after it: the model's
        ready line, or why the labels being corrected cannot train it (the note stays)."""
        refusal = train_kind.train_refusal(self.session)
        if refusal is not None:
            return f"{CANNOT_TRAIN}{refusal}. {note}"
        return f"{train_logic.ready_text(info, None, self.session.project)} {note}"

    def restore_waiting_round(self) -> bool:
        """Show the project's round waiting for its verdict, when the panel is idle; True
        when one came back. One whose weights are damaged does not, and is said once."""
        if self._state != "idle" or self.worker is not None:
            return False
        try:
            round_ = recorded_round(self.session)
        except DamagedRound as damaged:
            if damaged.folder not in self._told_damaged:
                self._told_damaged = self._told_damaged | {damaged.folder}
                self.session.host.notify(str(damaged), "warning")
            return False
        if round_ is None:
            return False
        self.round = round_
        self.plot.clear(CURVE_NOT_KEPT)  # (its curve was not kept: only its figures)
        train_layout.show_metrics(self.metrics, round_.result.metrics_before,
                                  round_.result.metrics_after)
        set_progress(self.progress, 0)
        self._set_state("review")
        self._show_verdict()
        return True

    def _show_recorded_verdict(self) -> None:
        """The verdict of a round read back from the history: which round it is (its date
        and parent), that it waits, and the figures the verdict rests on."""
        round_, result = self.round, self.round.result
        verdict = "better than" if train_logic.is_better(result) else "not better than"
        parent = round_.parent.name
        steps = f"{result.steps} step" + ("" if result.steps == 1 else "s")
        self.status.setText(f"The round of {_day_and_time(round_.recorded)}, fine-tuned from "
                            f"{parent} in {steps}, waits for your verdict: its model "
                            f"{round_.saved.name} is {verdict} {parent} on held-out data"
                            f"{verdict_basis(result)}. Accept uses it; Reject keeps the current "
                            "model."
                            + train_logic.held_out_caveat(result)
                            + left_out_note(result)
                            + self._switched_meanwhile())  # fmt: skip

    @staticmethod
    def accept_note(round_) -> str:
        """What an Accept of a round read back from the history says of the replay buffer.
        Its examples (the reviewed pixels it read) lived in memory only: re-reading the
        project's reviewed data now would keep the corrections as they are now, which may
        not be what the round learnt from, and they are in the project anyway (every later
        round learns from them). So none are added, and it is said (after a restart as
        after another project was opened meanwhile)."""
        if round_.recorded is None:
            return ""
        return (" Its training examples were not kept for later rounds (they are not saved "
                "with a round): later rounds learn from the project's reviewed corrections.")


def _left_text(round_, project, library) -> str:
    """What became of ``round_``, saved by ``project`` and waiting for its verdict, once
    that project closed: it waits in the project's history (its folder among the project's
    models) and comes back with it; or, saved in the user's models (the project could not
    be written), it stays there, as a round set aside by another model does."""
    folder = Path(round_.saved)
    if not _within(folder, project.models_dir):
        return train_logic.set_aside_text(round_).strip()
    when = round_.recorded
    if not when:
        try:  # (a round of this session: the date its model was saved)
            when = library.get(folder).date
        except UserError:
            when = None
    name = project.path.name
    of = f"of {_day_and_time(when)} ({folder.name})" if when else f"that made {folder.name}"
    return (f"The round {of} waits for its verdict in project {name}: it comes back when "
            f"{name} is opened.")


def _within(folder: Path, parent: Path) -> bool:
    try:
        return Path(folder).resolve().parent == Path(parent).resolve()
    except OSError:
        return False
