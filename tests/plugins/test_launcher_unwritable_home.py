"""The app starts with a user folder it cannot write (read-only, a file in the way): it died
noting the first run (NotADirectoryError), so the read-only-home path was out of reach."""

import pytest

pytestmark = pytest.mark.qt


def test_the_app_opens_with_a_user_folder_it_cannot_write(tmp_path, monkeypatch, nuclei_crop,
                                                          make_napari_viewer):
    """(make_napari_viewer, unused, isolates napari's registries for open_studio's viewer.)"""
    import tifffile

    from unet_studio.app.launcher import open_studio

    blocker = tmp_path / "afile"
    blocker.write_text("a file where the user folder's parent should be\n")
    monkeypatch.setenv("UNET_STUDIO_HOME", str(blocker / "home"))
    image = tmp_path / "nuclei.tif"
    tifffile.imwrite(image, nuclei_crop[0], imagej=True, metadata={"axes": "ZYX"})
    viewer = open_studio([image], show=False)  # (a first run: the flag cannot be written)
    try:
        assert [layer.name for layer in viewer.layers] == ["nuclei"]
        assert "Segment (unet-studio)" in viewer.window.dock_widgets
    finally:
        viewer.close()
