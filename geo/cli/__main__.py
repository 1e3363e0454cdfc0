"""``python -m geo.cli``: the same as the ``harewatch`` command."""

from geo.cli import main

raise SystemExit(main())
