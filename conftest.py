"""The pytest wiring lives in the sgdclaims.pytest_plugin entry point; tests use pytester."""

pytest_plugins = ("pytester",)
