"""DCAT-AP-NL 3.0: the mapper (CKAN package -> RDF graph), its tables, the catalogue export."""
