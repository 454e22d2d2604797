"""The undo history limit per labels layer: settings file, environment, default."""

from __future__ import annotations

import json
import logging

import pytest

from unet_studio.app.settings import (
    DEFAULT_UNDO_HISTORY_MIB,
    default_undo_history_bytes,
    settings_path,
    undo_history_bytes,
)


def _home(tmp_path, **settings):
    settings_path(tmp_path).write_text(json.dumps(settings), "utf-8")
    return tmp_path


def test_the_default_is_512_mib_or_an_eighth_of_the_memory(tmp_path):
    assert undo_history_bytes(tmp_path, {}) == default_undo_history_bytes()
    assert 0 < default_undo_history_bytes() <= DEFAULT_UNDO_HISTORY_MIB * 2**20


def test_the_settings_file_sets_it_and_the_environment_overrides_it(tmp_path):
    home = _home(tmp_path, undo_history_mib=64)
    assert undo_history_bytes(home, {}) == 64 * 2**20
    assert undo_history_bytes(home, {"UNET_STUDIO_UNDO_MIB": "1.5"}) == 3 * 2**19
    assert undo_history_bytes(home, {"UNET_STUDIO_UNDO_MIB": "unlimited"}) is None
    assert undo_history_bytes(_home(tmp_path, undo_history_mib="Unlimited"), {}) is None


@pytest.mark.parametrize("value", ["0", "-5", "lots", "inf", "nan"])
def test_a_wrong_value_is_ignored_with_a_warning(value, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        assert undo_history_bytes(tmp_path, {"UNET_STUDIO_UNDO_MIB": value}) == (
            default_undo_history_bytes())
    assert "undo history limit" in caplog.text
