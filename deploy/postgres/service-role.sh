#!/bin/sh
# The Compose stack's postgres container runs this once, on an empty data volume, before init.sql
# (docker-entrypoint-initdb.d, in name order): the services' role of deploy/postgres/roles.sql.
# The owner (migration) role is the image's POSTGRES_USER, sanctuary. The one-shot
# prepare-stores service then makes every table as the owner and grants this role what it may
# do. A data volume made before this script existed: run the same CREATE ROLE by hand once
# (docs/operations.md, "The Compose stack").
set -eu
psql -v ON_ERROR_STOP=1 -v service_password="$POSTGRES_SERVICE_PASSWORD" \
  --username "$POSTGRES_USER" --dbname postgres <<'SQL'
CREATE ROLE sanctuary_service LOGIN PASSWORD :'service_password';
SQL
