"""SHACL validation of DCAT-AP-NL graphs against this project's shapes."""
