#!/bin/sh
# Runs once when the PostgreSQL volume is created. The application logs in as
# shangliang_app, which owns no table, is no superuser and cannot bypass RLS.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE shangliang_app LOGIN PASSWORD '${APP_DB_PASSWORD}' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
GRANT CONNECT ON DATABASE "$POSTGRES_DB" TO shangliang_app;
SQL
