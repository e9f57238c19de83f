"""Subcommands of ``python -m kdash``: one module each, found by :func:`kdash.cli.build_parser`."""
