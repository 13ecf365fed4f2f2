#!/bin/sh
# First start of the PostgreSQL container (docker-entrypoint-initdb.d): the two roles of a
# least-privilege deployment and the database. `rectify_owner` owns the schema and is used
# only by `rectify migrate`; `rectify_app` owns nothing and gets its grants from
# `rectify migrate --grant-to rectify_app`. See README, "Least privilege on PostgreSQL".
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v owner_pw="$RECTIFY_DB_OWNER_PASSWORD" -v app_pw="$RECTIFY_DB_APP_PASSWORD" <<'SQL'
CREATE ROLE rectify_owner LOGIN PASSWORD :'owner_pw';
CREATE ROLE rectify_app LOGIN PASSWORD :'app_pw';
CREATE DATABASE rectify OWNER rectify_owner;
SQL
