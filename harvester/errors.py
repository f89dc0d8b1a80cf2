"""Typed errors, and the exit codes of the `harvester` command.

Every message names what went wrong, where, and what is expected. The hierarchy, with the exit
code the command leaves with when the error ends a run:

    HarvesterError .............. 3  a run failed (base class; also raised on its own)
    ├── UsageError .............. 2  the command line contradicts itself, or names what is not there
    │   └── ReportNotFoundError . 2  no report of the asked run in the reports folder
    ├── ConfigError ............. 4  the configuration is missing or wrong
    ├── NotAuthorisedError ...... 4  the source or target refused the API key (HTTP 403)
    ├── LockedError ............. 5  another run holds the lock on the state store
    ├── SourceError ............. 3  a source gave an answer we cannot use
    ├── StateError .............. 3  the state store cannot be opened, migrated or written
    ├── MappingError ............ 3  a mapping table is missing or malformed
    ├── TargetError ............. 3  the target CKAN refused a request or answered nonsense
    ├── UnreachableError ........ 3  the source or target server could not be reached at all
    └── StalePlanError .......... 3  a saved plan no longer fits the harvest, tables or target

A run that ends without an error leaves with the code of its outcome (`ExitCode.for_outcome`):
`success` 0, `attention` 1 (datasets invalid, in conflict, failed or withdrawals held back),
anything else (`failed`, `incomplete`) 3. Click's own usage errors leave with 2. `plan
--detailed-exitcode` leaves with 6 when the plan would write to the target.
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
    CHANGES_PENDING = 6

    @classmethod
    def for_outcome(cls, outcome: str) -> ExitCode:
        """The code of a run that ended with `outcome` (`success`, `attention`, `incomplete`, `failed`)."""
        return _OUTCOME_CODES.get(outcome, cls.RUN_FAILED)


_OUTCOME_CODES = {"success": ExitCode.OK, "attention": ExitCode.DATASETS}


class HarvesterError(Exception):
    """Base class of every error this tool raises on purpose."""

    exit_code = ExitCode.RUN_FAILED


class UsageError(HarvesterError):
    """The command line contradicts itself, or asks for a run, report or harvest that is not there."""

    exit_code = ExitCode.USAGE


class ConfigError(HarvesterError):
    """The configuration file is missing, malformed, or has an unknown or invalid key; or the
    command line asks for something the configuration cannot give."""

    exit_code = ExitCode.CONFIG


class NotAuthorisedError(HarvesterError):
    """The source or target answered 403: the API key is wrong, or its account may not do this.
    Not a SourceError: another way of listing would be refused the same."""

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


class UnreachableError(HarvesterError):
    """The source or target server never answered: the connection was refused, its name did not
    resolve, or every attempt timed out. Not a SourceError: a dead server is no reason to try
    another way of listing (package_list instead of package_search)."""


class StalePlanError(HarvesterError):
    """A saved plan no longer fits what it was made from: a newer harvest, other mapping tables
    or shapes, or datasets on the target edited since."""


class ReportNotFoundError(UsageError):
    """The reports folder holds no report of the asked run."""
