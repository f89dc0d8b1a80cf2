"""data.overheid.nl: the DCAT-AP-DONL package, its rules, its CKAN API, an in-memory target."""
