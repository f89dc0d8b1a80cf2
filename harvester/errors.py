"""Typed errors, and the exit codes of the `harvester` command.

Every message names what went wrong, where, and what is expected. The hierarchy, with the exit
code the command leaves with when the error ends a run:

    HarvesterError .............. 3  a run failed (base class; also raised on its own)
    ├── ConfigError ............. 4  the configuration or the command line is wrong
    ├── LockedError ............. 5  another run holds the lock on the state store
    ├── SourceError ............. 3  a source gave an answer we cannot use
    ├── StateError .............. 3  the state store cannot be opened, migrated or written
    ├── MappingError ............ 3  a mapping table is missing or malformed
    ├── TargetError ............. 3  the target CKAN refused a request or answered nonsense
    └── ReportNotFoundError ..... 3  no report of the asked run in the reports folder

A run that ends without an error leaves with the code of its outcome (`ExitCode.for_outcome`):
`success` 0, `attention` 1 (datasets invalid, in conflict, failed or withdrawals held back),
anything else (`failed`, `incomplete`) 3. Click's own usage errors leave with 2.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What the `harvester` command tells a scheduler (the README's "Exit codes" table)."""

    OK = 0
    DATASETS = 1
    USAGE = 2
    RUN_FAILED = 3
    CONFIG = 4
    LOCKED = 5

    @classmethod
    def for_outcome(cls, outcome: str) -> ExitCode:
        """The code of a run that ended with `outcome` (`success`, `attention`, `incomplete`, `failed`)."""
        return _OUTCOME_CODES.get(outcome, cls.RUN_FAILED)


_OUTCOME_CODES = {"success": ExitCode.OK, "attention": ExitCode.DATASETS}


class HarvesterError(Exception):
    """Base class of every error this tool raises on purpose."""

    exit_code = ExitCode.RUN_FAILED


class ConfigError(HarvesterError):
    """The configuration file is missing, malformed, or has an unknown or invalid key; or the
    command line asks for something the configuration cannot give."""

    exit_code = ExitCode.CONFIG


class LockedError(HarvesterError):
    """Another run holds the lock on this state store."""

    exit_code = ExitCode.LOCKED


class SourceError(HarvesterError):
    """A source (CKAN API or dump file) gave an answer we cannot use."""


class StateError(HarvesterError):
    """The state store cannot be opened, migrated or written."""


class MappingError(HarvesterError):
    """A mapping table is missing or malformed."""


class TargetError(HarvesterError):
    """The target CKAN refused a request or gave an answer we cannot use."""


class ReportNotFoundError(HarvesterError):
    """The reports folder holds no report of the asked run."""
