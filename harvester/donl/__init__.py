"""data.overheid.nl: the DCAT-AP-DONL package, its rules, its CKAN API, an in-memory target.

valuelists  data.overheid.nl's value lists, read from the mapping tables
formats     how data.overheid.nl writes values (dates, URIs, tags, media types)
rules       what its validators would answer to a package (check_package)
convert     a DCAT-AP-NL dataset graph -> TargetDataset -> package body (to_target)
compare     packages compared and hashed (canonical_hash, diff_packages, package_key)
api         the target's CKAN action API (TargetApi)
memory      an in-memory target, the tests' and the benchmark's stand-in for TargetApi
"""
