"""Typed errors. Every message names what went wrong, where, and what is expected."""

from __future__ import annotations


class HarvesterError(Exception):
    """Base class of every error this tool raises on purpose."""

    exit_code = 3


class ConfigError(HarvesterError):
    """The configuration file is missing, malformed, or has an unknown or invalid key."""

    exit_code = 4


class SourceError(HarvesterError):
    """A source (CKAN API or dump file) gave an answer we cannot use."""


class StateError(HarvesterError):
    """The state store cannot be opened, migrated or written."""


class MappingError(HarvesterError):
    """A mapping table is missing or malformed."""


class TargetError(HarvesterError):
    """The target CKAN refused a request or gave an answer we cannot use."""


class LockedError(HarvesterError):
    """Another run holds the lock on this state store."""

    exit_code = 5
