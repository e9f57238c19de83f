"""``python -m kdash``: the command-line interface."""

from kdash.cli.main import main

raise SystemExit(main())
