"""Adapters: the edges where modelreg talks to git, DVC and the outside world."""
