"""Cross-service tests.

The infrastructure fixtures (``kafka_bootstrap``, ``postgres_dsn``, ``unique_name``,
``pg_database``) come from ``shared.testing.pytest_plugin``, which the root ``conftest.py``
registers for every test folder.
"""
