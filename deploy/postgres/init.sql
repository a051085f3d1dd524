-- Run once by the postgres image on an empty volume (docker-compose.yml): the image creates
-- Dagster's database (POSTGRES_DB); JobPing's app database lives beside it.
CREATE DATABASE jobping;
