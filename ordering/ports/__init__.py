"""Ports: what the services need from the outside world, as abstract classes.

Every port has an in-memory adapter that ships with the code (ordering/adapters/memory_*)
and real ones; one contract test suite per port runs against all of them. Adapters
translate their client's errors into the errors declared here.
"""
