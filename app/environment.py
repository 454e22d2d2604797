"""The UNET_STUDIO_* environment variables that set sizes and folders, read up front.

Each is read where it is used, deep inside a run; a mistyped value found there would be a
traceback, or an error that seems to be about the input file. The CLI and the napari reader
read them all before any work, so a bad value is one message naming the variable.
"""

from __future__ import annotations


def check_environment() -> None:
    """UserError naming the first UNET_STUDIO_* variable whose value cannot be used."""
    from unet_studio.app.errors import UserError
    from unet_studio.app.io.chunk_cache import cache_bytes_from_environment
    from unet_studio.models.label_threads import label_threads
    from unet_studio.models.scratch import ram_limit, scratch_folder

    for read in (cache_bytes_from_environment, ram_limit, scratch_folder, label_threads):
        try:
            read()
        except ValueError as error:
            raise UserError(str(error)) from None
