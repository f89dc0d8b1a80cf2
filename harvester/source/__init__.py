"""Stage 1: read a source catalogue (CKAN action API or a dump file) and harvest it into the state store."""
