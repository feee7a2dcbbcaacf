"""Fixtures for every test folder in the repository (shared/, services/*/, cli/, tests/)."""

pytest_plugins = ["shared.testing.pytest_plugin"]
