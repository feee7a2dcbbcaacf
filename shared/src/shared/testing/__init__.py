"""Test support: real Kafka and PostgreSQL for integration tests, and the pytest plugin."""
