"""A Train round left waiting for its verdict by an earlier session (the app closed or
killed after Train, the project closed and reopened, copied or moved): read back from the
project's history (``train_versions.waiting_round``) and shown as the panel showed it, in
its "review" state, so that Accept and Reject still decide it. Without this the round came
back as nothing: its model was offered by Roll back as an "earlier version", and rolling
back to it used it without the Accept the history lacked.

What cannot come back: the round's network in memory (its model folder holds it), its
loss curve, and its training examples (see ``WaitingRound.accept_note``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from unet_studio.app.errors import UserError
from unet_studio.app.qt import train_layout, train_logic
from unet_studio.app.qt.train_review import _day_and_time, left_out_note, verdict_basis
from unet_studio.app.qt.train_versions import history_of, waiting_round
from unet_studio.app.qt.workers import set_progress


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


def recorded_round(session) -> train_logic.TrainRound | None:
    """The round of the session's project waiting for its verdict, as the panel tracks a
    round (saved, finished, of that project); None when none waits (or its folder no longer
    reads as a model)."""
    project, library = session.project, session.library
    found = waiting_round(history_of(project), library)
    if found is None:
        return None
    entry, folder = found
    try:
        info = library.get(folder)
    except UserError:  # (damaged since: nothing to accept)
        return None
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


class WaitingRound:
    """Mixed into ``TrainPanel`` (with ``RoundReview``: uses the panel's ``session``,
    ``round``, ``worker``, ``_state``, ``status``, ``metrics``, ``plot``, ``progress``,
    ``_set_state``, ``refresh_versions`` and ``_switched_meanwhile``)."""

    def _project_opened(self) -> None:
        """A project was opened (or closed): its waiting round comes back while no round
        runs or waits here; the Roll back list is the new project's."""
        self._adopt_reopened()
        self.restore_waiting_round()
        self.refresh_versions()

    def _adopt_reopened(self) -> None:
        """The round waiting here belongs to the project just reopened (closed, then
        opened again: another Project object): its Accept and Reject are logged there."""
        round_, project = self.round, self.session.project
        if self._state != "review" or round_ is None or project is None or round_.saved is None \
                or round_.project is None or round_.project is project:
            return
        found = waiting_round(history_of(project), self.session.library)
        if found is not None and Path(found[1]) == Path(round_.saved).resolve():
            round_.project = project

    def restore_waiting_round(self) -> bool:
        """Show the project's round waiting for its verdict, when the panel is idle; True
        when one came back."""
        if self._state != "idle" or self.worker is not None:
            return False
        round_ = recorded_round(self.session)
        if round_ is None:
            return False
        self.round = round_
        self.plot.clear()  # (its curve was not kept: only its figures)
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
        round learns from them). So none are added, and it is said."""
        if round_.recorded is None:
            return ""
        return (" Its training examples were not kept for later rounds (they were in memory "
                "only, before the restart): later rounds learn from the project's reviewed "
                "corrections.")
