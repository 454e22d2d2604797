"""How long a model change holds the GUI thread in a project used for weeks.

A project's history names every round ever made, also those removed since; the Train and
Models panels read it again at every model change (the verdicts of the rounds, the round
waiting for one, the rounds that can be removed). Each entry of a removed model was a
failed library lookup whose error message listed every model with its weights header
checked: 25 s per model change in a QA run's project of 100 removed rounds and 30 versions.
The message is now built only when shown (``model_library.NoSuchModel``).

Measured here in one run, on the same project: ``session.set_model`` with both panels open,
with the message built lazily (ours) and eagerly (the reference: the old behaviour, put back
for the measurement), median of ``--repeats`` changes each.

Run: ``QT_API=pyside6 xvfb-run -a .venv/bin/python benchmarks/bench_model_change.py
[--removed 100] [--kept 30] [--repeats 5] [--write]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def make_project(folder: Path, removed: int, kept: int):
    """A session (FakeHost) whose project holds ``kept`` round models and a history of
    ``removed`` rounds whose folders are gone (made, rejected, removed)."""
    from unet_studio.app.host import FakeHost
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    os.environ["UNET_STUDIO_HOME"] = str(folder / "home")
    host = FakeHost()
    host.add_image(np.zeros((2, 30, 30), np.float32), "ZYX", name="img")
    session = StudioSession(host, library=ModelLibrary(home=folder / "home"))
    session.show_labels(np.zeros((2, 30, 30), np.int32))
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    session.set_model(str(save_model(net, folder / "tiny", metadata={"name": "tiny"})))
    project = session.ensure_project()
    for index in range(kept):
        path = save_model(net, project.models_dir / f"round-{index:03d}",
                          metadata={"name": f"round-{index:03d}"})
        project.log("fine-tune", model=str(path))
        project.log("accept model", model=str(path))
    for index in range(removed):
        gone = str(project.models_dir / f"removed-{index:03d}")
        project.log("fine-tune", model=gone)
        project.log("reject model", model=gone)
        project.log("remove model", model=gone)
    project.flush(30)
    return session


def median_change(session, models: list, repeats: int) -> float:
    from qtpy.QtWidgets import QApplication

    times = []
    for index in range(repeats):
        start = time.perf_counter()
        session.set_model(models[index % len(models)])
        QApplication.processEvents()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--removed", type=int, default=100)
    parser.add_argument("--kept", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    from qtpy.QtWidgets import QApplication

    from unet_studio.app import model_library
    from unet_studio.app.qt.models_panel import ModelsPanel
    from unet_studio.app.qt.train_panel import TrainPanel

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        session = make_project(Path(folder), args.removed, args.kept)
        panels = [TrainPanel(session), ModelsPanel(session)]  # (both refresh at a change)
        models = [info.path for info in session.library.list() if info.source == "project"][:2]
        ours = median_change(session, [str(m) for m in models], args.repeats)
        eager = model_library.NoSuchModel.__init__

        def built_at_once(self, text, library):  # (the reference: the message made at raise)
            eager(self, text, library)
            self.args = (str(self),)

        model_library.NoSuchModel.__init__ = built_at_once
        try:
            reference = median_change(session, [str(m) for m in models], args.repeats)
        finally:
            model_library.NoSuchModel.__init__ = eager
        session.close_project()
        del panels
        app.processEvents()
    rows = (f"| project | {args.removed} removed rounds, {args.kept} kept versions |\n"
            f"| model change, message built when shown (ours) | {ours * 1000:.0f} ms |\n"
            f"| model change, message built at each miss (before) | {reference * 1000:.0f} ms |\n"
            f"| ratio | {reference / ours:.0f}x faster |\n")
    body = (f"Median of {args.repeats} model changes (`session.set_model` with the Train and "
            "Models panels open), both variants in one run on the same project; tiny models (a "
            "real ResNet's weights header is read the same way).\n\n| | |\n|---|---|\n" + rows)
    print(body)
    if args.write:
        from results_file import write_result

        write_result("model_change", "Model change in a project used for weeks", body)


if __name__ == "__main__":
    main()
