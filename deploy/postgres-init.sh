#!/bin/sh
# Runs once, when the PostgreSQL volume is new (docker-entrypoint-initdb.d): the app role.
# The app connects as cdmo_app, which owns nothing and cannot bypass row-level security;
# `migrate` connects as the owner (POSTGRES_USER) and grants cdmo_app what it needs.
set -eu
psql -v ON_ERROR_STOP=1 -v app_password="${CDMO_APP_PASSWORD:?set CDMO_APP_PASSWORD}" \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE cdmo_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
  PASSWORD :'app_password';
SQL
