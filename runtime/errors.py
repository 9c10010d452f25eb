"""The error every process shares for a user's mistake.

Raised by runtime code (the worker's metrics port, a configuration value) as well as by the
CLI; the CLI turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake of the user's (bad file, bad JSON, unknown id): exit 2 with this line."""
