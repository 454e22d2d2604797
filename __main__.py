"""``python -m unet_studio`` is the ``unet-studio`` command."""

from unet_studio.app.cli import main

raise SystemExit(main())
