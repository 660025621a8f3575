"""One module per command family; importing this package registers every subcommand.

The import order is the order `help` lists them in.
"""
# isort: skip_file

from bot.features import papers, subscriptions, digest, admin, help

__all__ = ["admin", "digest", "help", "papers", "subscriptions"]
