"""``python -m kdash``: the command-line interface."""

from kdash.cli import main

raise SystemExit(main())
