"""A network trained from random weights for a round or two, once accepted, is no longer
marked untrained: it was then used without a word (Segment's first line, its Done line and
its card read as those of a trained model), though after 140 CPU steps it still found
nothing. They now say how few steps it has had, until it has had hundreds."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


@pytest.fixture(scope="module")
def scratch_models(tmp_path_factory):
    """Three model folders of one tiny network: accepted after 140 steps from random
    weights, built untrained, and trained (no record of steps from scratch)."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, in_channels=1, out_channels=3, base_channels=4, depth=2)
    root = tmp_path_factory.mktemp("scratch")
    return {name: save_model(net, root / name, metadata={"name": name, **metadata})
            for name, metadata in (("scratchy", {"steps_from_scratch": 140, "parent": "fresh"}),
                                   ("fresh", {"untrained": True}),
                                   ("trained", {"parent": "nuclei"}))}  # fmt: skip


def test_a_model_hardly_trained_from_scratch_is_said_so_where_it_is_used(scratch_models, tmp_path):
    from unet_studio.app.host import FakeHost
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.model_card import card_markdown
    from unet_studio.app.qt.segment_done import DoneLine
    from unet_studio.app.qt.segment_tips import ready_text

    library = ModelLibrary(home=tmp_path / "home")
    image = FakeHost().add_image(np.zeros((8, 8), "uint8"), "YX", name="cells")
    scratchy, fresh, trained = (library.get(scratch_models[n]) for n in ("scratchy", "fresh", "trained"))

    said = "has had only 140 training steps since random weights"
    ready = ready_text(image, scratchy)
    assert ready.startswith(f"scratchy {said}")  # (its name as the user spelt it)
    assert ready.endswith("Run segments cells with it all the same.")
    assert said in card_markdown(scratchy)
    done = DoneLine("cells", scratchy.path, scratchy.name, ": 3 objects").text()
    assert done.startswith("Done: cells segmented with scratchy: 3 objects.") and said in done
    assert "train it longer in the Train panel" in done

    for other in (fresh, trained):  # (untrained: said as such; trained: nothing of steps)
        assert "training steps since random weights" not in ready_text(image, other)
        assert "training steps since random weights" not in card_markdown(other)
        assert "training steps" not in DoneLine("cells", other.path, other.name, "").text()
    assert "untrained" in ready_text(image, fresh) and "untrained" not in ready_text(image, trained)
