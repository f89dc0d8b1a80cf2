"""dcat-ap-nl-harvester: CKAN -> DCAT-AP-NL 3.0 -> SHACL -> data.overheid.nl."""

__version__ = "0.1.0"
