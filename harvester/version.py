"""The harvester's version, and the version of the logic that turns a record into a result.

`LOGIC_VERSION` names the behaviour of the code that maps a CKAN package to DCAT-AP-NL,
validates it and converts it to a data.overheid.nl package. A stored result is reused only while
it was made by the same `LOGIC_VERSION` (and the same mapping tables, shapes and options), so
whoever changes what that code produces bumps it; tests/test_golden.py fails when the golden
outputs change and this constant did not.
"""

__version__ = "0.1.0"

LOGIC_VERSION = "2026.12.6"
