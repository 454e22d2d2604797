"""A Train round's model that cannot be saved (a full disk) is said by the model's folder
and the problem: the Train panel showed "[Errno 28] No space left on device:
'.../.tmp-nuclei-ft-.../.tmp-y18t32or.safetensors'", hidden names she never sees."""

from __future__ import annotations

import errno
import os

import pytest

from unet_studio.app.atomic import WriteError


def test_a_round_saved_on_a_full_disk_names_its_folder(session, save_finished_round,
                                                       monkeypatch):
    from unet_studio.models import weights

    def full_disk(net, folder, **_):
        folder.mkdir(parents=True)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / ".tmp-abc.safetensors"))

    monkeypatch.setattr(weights, "save_model", full_disk)
    models = session.ensure_project().models_dir
    with pytest.raises(WriteError) as caught:
        save_finished_round(session)
    said = str(caught.value)
    assert said.startswith("cannot write tiny-ft-") and f" in {models}: " in said
    assert said.endswith(os.strerror(errno.ENOSPC)) and ".tmp" not in said
    assert not [path for path in models.iterdir() if path.name.startswith(".")]  # (none left)
