"""The npe2 manifest validates and every contribution it names imports."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

npe2 = pytest.importorskip("npe2")

MANIFEST = Path(__file__).resolve().parents[2] / "plugins" / "napari.yaml"


def _manifest():
    return npe2.PluginManifest.from_file(MANIFEST)


def test_npe2_validate_passes():
    out = subprocess.run(
        [str(Path(sys.executable).parent / "npe2"), "validate", "unet-studio"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "valid" in out.stdout


def test_manifest_is_found_through_the_entry_point():
    manifest = npe2.PluginManifest.from_distribution("unet-studio")
    assert manifest.name == "unet-studio"
    assert manifest.display_name == "unet-studio"


@pytest.mark.parametrize("command", _manifest().contributions.commands, ids=lambda c: c.id)
def test_every_command_imports(command):
    module_name, _, attribute = command.python_name.partition(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, attribute))


def test_contributions_cover_reader_writer_samples_and_panels():
    contributions = _manifest().contributions
    patterns = set(contributions.readers[0].filename_patterns)
    assert {"*.tif", "*.tiff", "*.ome.tif", "*.ome.tiff", "*.zarr"} <= patterns
    assert contributions.writers[0].layer_types == ["labels"]
    assert {s.key for s in contributions.sample_data} == {"nuclei3d", "hela_timelapse"}
    assert {w.display_name for w in contributions.widgets} == {"Segment", "Correct", "Models", "Train"}


@pytest.mark.parametrize(("key", "axes", "ndim"), [("nuclei3d", "ZYX", 3), ("hela_timelapse", "TYX", 3)])
def test_sample_data_opens_with_axes_and_scale(key, axes, ndim):
    from unet_studio.plugins import sample_data

    layers = getattr(sample_data, f"{key}_sample")()
    assert len(layers) == 1
    data, meta, layer_type = layers[0]
    assert layer_type == "image" and data.ndim == ndim
    assert meta["metadata"]["axes"] == axes
    assert len(meta["scale"]) == ndim
    assert float(data[0].max()) > 0  # real pixels, not an empty stack
