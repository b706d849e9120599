"""Contract tests without Walmart's specs: skipped on a developer's machine, failed under CI."""

import pytest

from tests.specs_required import specs_require


def test_missing_specs_fail_a_contract_test_under_ci(tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the contract tests"):
        specs_require(tmp_path / "missing")


def test_missing_specs_skip_a_contract_test_elsewhere(tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="are not at"):
        specs_require(tmp_path / "missing")


def test_present_specs_let_the_test_run(tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    specs_require(tmp_path)  # exists: returns without skipping or failing
