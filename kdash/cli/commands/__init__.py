"""Subcommands of ``python -m kdash``: one module each, found by :func:`kdash.cli.main.build_parser`."""
