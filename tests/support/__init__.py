"""Helpers the test layers share: builders of events and commands, and backends to run against."""
