"""`python -m paperboy` is the `paperboy` command."""

from paperboy.cli import main

raise SystemExit(main())
