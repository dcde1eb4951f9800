"""The Postgres read model: its tables (rows.py), their DDL (migrations/) and the migrator."""
