"""Walmart's specs (../shared/walmart-api, or WALMART_API_SPECS_DIR) for the contract tests.

Without them a contract test is skipped with the reason shown; under CI (CI set) it fails instead, so CI
never passes without running the contract tests (as the browser tests do without chromium). Tests ask for
the fixtures `walmart_openapi_specs` / `walmart_feed_schemas` (tests/conftest.py), or call `specs_require`.
"""

import os
from pathlib import Path

import pytest


def specs_require(path: Path, what: str = "Walmart's OpenAPI specs") -> None:
    """Skip (or, under CI, fail) the calling test when `path` does not exist."""
    if path.exists():
        return
    reason = f"{what} are not at {path} (set WALMART_API_SPECS_DIR)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. CI must run the contract tests: put the specs there.")
    pytest.skip(reason)
