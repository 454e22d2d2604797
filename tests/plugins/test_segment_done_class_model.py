"""The Segment panel's Done line after a class model's run: it names the model as the panel
does (its folder's name where its config records none, not the architecture), and gives the
class shares of the slice segmented even when the stack's labels live on disk (a stack too
big for RAM: a memory-mapped scratch file)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

CLASSES = ("background", "nucleus", "nucleus edge")


@pytest.fixture
def nameless_classes_model(tmp_path):
    """A tiny 2D semantic model of CLASSES in a folder "classes3-2d" whose config records no
    name (as a model saved by a script)."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2, out_channels=3)
    return save_model(net, tmp_path / "classes3-2d",
                      task=TaskSpec(kind="semantic", class_names=CLASSES))


def _segment_slice(studio, model, segment_panel_of, run_segment) -> str:
    """The Done line of a "Current slice" run of ``model`` on a (4, 32, 32) stack."""
    studio.viewer.add_image(np.random.default_rng(0).random((4, 32, 32), np.float32),
                            name="cells", metadata={"axes": "ZYX"})
    studio.session.set_model(str(model))
    panel = segment_panel_of(studio)
    panel.scope_slice.setChecked(True)
    run_segment(panel)
    return panel.status.text()


def test_done_line_names_the_model_folder(studio, nameless_classes_model, segment_panel_of,
                                          run_segment):
    done = _segment_slice(studio, nameless_classes_model, segment_panel_of, run_segment)
    assert done.startswith("Done: cells segmented with classes3-2d: "), done
    assert "%" in done, done


def test_done_line_gives_class_shares_of_a_slice_of_labels_on_disk(
        studio, nameless_classes_model, segment_panel_of, run_segment, monkeypatch):  # fmt: skip
    from unet_studio.models.scratch import RAM_LIMIT_ENV

    monkeypatch.setenv(RAM_LIMIT_ENV, "0.001")  # (every working array a file, as a big stack's)
    done = _segment_slice(studio, nameless_classes_model, segment_panel_of, run_segment)
    assert isinstance(studio.host.current_labels(), np.memmap)
    shares = done.split(": ", 1)[1]
    assert all(f"{name} " in shares for name in CLASSES) and "%" in shares, done
