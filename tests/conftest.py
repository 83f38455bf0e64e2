"""Shared pytest setup: the real-shop fixtures (skipped with a reason where ../shared/ is
absent, never skipped with CI=true)."""

pytest_plugins = ["tests.realshop.woo", "tests.realshop.presta"]
