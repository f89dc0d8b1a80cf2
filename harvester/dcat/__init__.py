"""DCAT-AP-NL 3.0: the mapper (CKAN package -> RDF graph), its tables, the catalogue export.

docs/mapping.md lists the modules and what each DCAT-AP-NL property is made from.
"""
