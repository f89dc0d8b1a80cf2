"""dcat-ap-nl-harvester: CKAN -> DCAT-AP-NL 3.0 -> SHACL -> data.overheid.nl."""

from harvester.version import __version__

__all__ = ["__version__"]
