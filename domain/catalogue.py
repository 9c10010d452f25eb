"""The complete catalogue of commands and events, for whoever reads it.

`domain/registry.py` says how a slice registers; the slices import it. Reading the tables
needs every slice imported first, so readers import them from here, which imports the slices
(in the contract's order, see `domain/slices/__init__.py`) and keeps the registry free of
any import of its own users.
"""

from __future__ import annotations

import domain.slices  # noqa: F401 - importing the slices is what registers them
from domain.registry import COMMANDS, EVENTS, USER_COMMANDS, user_commands

__all__ = ["COMMANDS", "EVENTS", "USER_COMMANDS", "user_commands"]
