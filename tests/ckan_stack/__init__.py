"""A real local CKAN 2.12 stack for the test suite.

`CkanStack` (stack.py) starts PostgreSQL, Redis, the in-memory Solr stand-in (solr_standin.py)
and any number of CKAN instances; `plugin.py` exposes them as pytest fixtures; `seeding.py` loads
CKAN dumps into an instance and resets it.
"""
