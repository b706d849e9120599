"""Log-in throttling: 50 wrong passwords used to be followed by a successful log-in with the right one, and
failures were not logged. Now a username is locked after AXES_FAILURE_LIMIT failures, on the site's log-in
and the admin's, each failure logged without the password."""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WRONG = "wrong-password-guess"


@pytest.fixture
def user(db):
    return UserFactory(username="operator", is_staff=True)


def _log_in(client, url_name: str, password: str):
    return client.post(reverse(url_name), {"username": "operator", "password": password})


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_fifty_wrong_passwords_then_the_right_one_is_refused(client, user, url_name, settings):
    # given: 50 wrong passwords in a row
    statuses = [_log_in(client, url_name, WRONG).status_code for _ in range(50)]
    # when: the right one
    response = _log_in(client, url_name, PASSWORD)
    # then: the first failures were ordinary ones, then the username is locked, the right password too
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)
    assert set(statuses[limit - 1 :]) == {429}
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Too many failed log-in attempts for operator: log-in is locked for 15 minutes" in page


def test_the_lock_ends_after_the_cool_off(client, user):
    for _ in range(5):
        _log_in(client, "login", WRONG)
    assert _log_in(client, "login", PASSWORD).status_code == 429
    # when: the cool-off has passed
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    # then
    assert _log_in(client, "login", PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_ops_staff_unlock_an_account_by_deleting_its_access_attempt(client, user):
    for _ in range(5):
        _log_in(client, "login", WRONG)
    AccessAttempt.objects.filter(username="operator").delete()
    assert _log_in(client, "login", PASSWORD).status_code == 302


def test_a_successful_log_in_resets_the_count(client, user):
    for _ in range(4):
        _log_in(client, "login", WRONG)
    assert _log_in(client, "login", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert _log_in(client, "login", WRONG).status_code == 200
    assert _log_in(client, "login", PASSWORD).status_code == 302


def test_another_username_is_not_locked(client, user):
    UserFactory(username="colleague")
    for _ in range(10):
        _log_in(client, "login", WRONG)
    response = client.post(reverse("login"), {"username": "colleague", "password": PASSWORD})
    assert response.status_code == 302


def test_each_failure_is_logged_with_the_username_never_the_password(client, user, caplog):
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            _log_in(client, "login", WRONG)
    failures = [record for record in caplog.records if "login failure by" in record.getMessage()]
    lockouts = [record for record in caplog.records if "Locking out" in record.getMessage()]
    assert len(failures) == 5
    assert all('username: "operator"' in record.getMessage() for record in failures)
    assert all(record.levelno == logging.WARNING for record in failures + lockouts)
    assert len(lockouts) == 1
    assert WRONG not in caplog.text
    assert WRONG not in "".join(AccessAttempt.objects.values_list("post_data", flat=True))
