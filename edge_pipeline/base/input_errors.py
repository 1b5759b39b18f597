"""The base class of "the user's input is wrong" errors outside inbound files.

A warehouse path that is no DuckDB file, a configuration CSV with a bad cell, a command run
before the step it needs: none is the program's fault, so the CLI answers each with its
one-line message and exit 2 (never "internal error").  Light on purpose: the CLI imports it at
start-up.
"""

from __future__ import annotations


class UserInputError(ValueError):
    """The user's input is wrong; the message says what and where, in one line."""
