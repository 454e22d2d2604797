"""The correction loop through the real panels: two rounds on the E. coli movie (run under Xvfb).

    QT_API=pyside6 OMP_NUM_THREADS=2 xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python benchmarks/bench_gui_loop.py --data ../shared/data \\
        --out benchmarks/results/gui_loop.md

What a user does in the app, with the study's masks standing in for their corrections: open
the phase-contrast E. coli movie (3 frames), segment it with the bundled nuclei model, replace
frame 0's labels by the reference (one undoable edit), mark the frame reviewed, fine-tune in
the Train panel (fixed steps), accept with re-prediction; then the same with frame 1. Frame 2
is never corrected: its F1 against the reference is the figure. Unlike
``bench_correction_loop.py`` (the engine alone, one frame an example) this goes through the
session, the project, the Train panel's data collection (the movie is one image: its reviewed
frames, normalised over the whole movie) and the Segment panel's protected re-prediction.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "screenshots"))
from take_screenshots import settle, show_panel, wait_for  # noqa: E402  (a sibling script)

MOVIE = "trpL_ecoli_phase_3t"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    os.environ["UNET_STUDIO_HOME"] = tempfile.mkdtemp(prefix="unet-studio-gui-loop-")

    from unet_studio.app.label_edit import edit_from_region
    from unet_studio.app.launcher import open_studio
    from unet_studio.models.metrics import object_scores
    from unet_studio.models.training import FinetuneConfig
    from unet_studio.plugins.widgets import session_for

    truth = tifffile.imread(args.data / f"{MOVIE}_mask.tif").astype(np.int32)
    viewer = open_studio([args.data / f"{MOVIE}_img.tif"], show=True, load_sample=False)
    session = session_for(viewer)
    settle(1.0)
    segment, rows = show_panel(viewer, "Segment"), []

    def score(label: str, seconds: float | None = None, verdict: str = "") -> None:
        scores = object_scores(np.array(session.host.current_labels())[2], truth[2])
        rows.append((label, scores["f1_50"], scores["f1_75"], scores["n_pred"], seconds, verdict))
        print(rows[-1], flush=True)

    segment.scope_stack.setChecked(True)
    segment.run()
    wait_for(lambda: segment.worker is None)
    score("bundled model")
    train = show_panel(viewer, "Train")
    for frame in (0, 1):
        live = session.host.current_labels()
        region = (slice(frame, frame + 1), slice(None), slice(None))
        session.apply_edit(edit_from_region(live, region, truth[frame:frame + 1], "corrected"))
        session.ensure_reviewed().mark_slice(frame)
        session.reviewed_changed_by_user()
        start = time.monotonic()
        train.start(config=FinetuneConfig(max_seconds=None, max_steps=args.steps, seed=args.seed))
        wait_for(lambda: train.worker is None, timeout=3600)
        seconds = time.monotonic() - start
        verdict = train.status.text()
        train.repredict_check.setChecked(True)
        train.accept_button.click()
        wait_for(lambda: segment.worker is None and train.worker is None)
        settle(0.5)
        kept = np.array_equal(np.array(session.host.current_labels())[frame], truth[frame])
        score(f"round {frame + 1}: frame {frame} corrected" + ("" if kept else " (NOT kept)"),
              seconds, verdict)  # fmt: skip
    session.close_project()
    viewer.close()

    lines = ["# The correction loop through the real panels (E. coli movie)", "",
             f"Command: `QT_API=pyside6 OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '?')} "
             f"xvfb-run -a .venv/bin/python benchmarks/bench_gui_loop.py {' '.join(sys.argv[1:])}`",
             "", f"{args.steps} fine-tuning steps a round (seed {args.seed}), batch and patch size as "
             "the Train panel's defaults; each round accepted with re-prediction of the movie "
             "(reviewed frames kept). Frame 2 (17 reference cells) is never corrected.", "",
             "| after | F1@0.5 frame 2 | F1@0.75 frame 2 | objects | round wall s | Train panel verdict |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for label, f1_50, f1_75, n_pred, seconds, verdict in rows:
        wall = "" if seconds is None else f"{seconds:.0f}"
        lines.append(f"| {label} | {f1_50:.3f} | {f1_75:.3f} | {n_pred} | {wall} | {verdict} |")
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
