"""`python -m bot` is the same program as the `supportbot` console script."""

from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
