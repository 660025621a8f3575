"""`python -m bot` is the `paperboy` command."""

from bot.cli import main

raise SystemExit(main())
