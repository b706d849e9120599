"""An operator in the dashboard, over HTTP: logs in, opens a page, fills its real HTML form (CSRF token
included) and posts it, exactly as a browser would (without following the redirect after a save)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import requests

from bench.soak.htmlforms import HtmlForm, forms_in


class DashboardError(Exception):
    """A page could not be opened (not a form refusal)."""


@dataclass(frozen=True)
class Posted:
    """What became of one form submission."""

    outcome: str  # "saved" (redirect), "refused" (form shown again), "error" (5xx / no answer)
    status: int | None
    seconds: float
    location: str = ""
    message: str = ""


class Dashboard:
    def __init__(self, base_url: str, *, username: str, password: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        self.session = requests.Session()

    def url(self, path: str) -> str:
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def login(self) -> None:
        page = self.session.get(self.url("/accounts/login/"), timeout=self.timeout)
        form = next((form for form in forms_in(page.text) if "username" in form.names), None)
        if form is None:
            raise DashboardError(f"no login form at /accounts/login/ (HTTP {page.status_code})")
        answer = self.session.post(
            self.url(form.action or "/accounts/login/"),
            data=form.values(username=self.username, password=self.password),
            allow_redirects=False,
            timeout=self.timeout,
        )
        if answer.status_code != 302:
            raise DashboardError(f"login refused (HTTP {answer.status_code})")

    def page(self, path: str) -> tuple[str, str]:
        """(HTML, final URL) of a page; logs in again when the session was lost."""
        for _ in range(2):
            answer = self.session.get(self.url(path), timeout=self.timeout)
            if "/accounts/login/" in answer.url and "/accounts/login/" not in path:
                self.login()
                continue
            if answer.status_code != 200:
                raise DashboardError(f"GET {path}: HTTP {answer.status_code}")
            return answer.text, answer.url
        raise DashboardError(f"GET {path}: the login did not hold")

    def form(self, path: str, *, form_id: str | None = None, field: str | None = None,
             button: tuple[str, str] | None = None) -> tuple[HtmlForm, str]:  # fmt: skip
        """The form on the page at `path` with this id, holding this field, or this submit button."""
        found = self.form_unless(path, form_id=form_id, field=field, button=button)
        assert found is not None  # without `unless`, a page always has the form or raises
        return found

    def form_unless(self, path: str, *, unless: str | None = None, form_id: str | None = None,
                    field: str | None = None,
                    button: tuple[str, str] | None = None) -> tuple[HtmlForm, str] | None:  # fmt: skip
        """Like `form`, but None when the page holds an element with the id `unless` instead (the page says
        there is nothing left to do, e.g. a return with nothing left to refund)."""
        html, url = self.page(path)
        for form in forms_in(html):
            if (
                (form_id is not None and form.attrs.get("id") == form_id)
                or (field is not None and field in form.names)
                or (button is not None and button in form.buttons)
            ):
                return form, url
        if unless is not None and re.search(rf"""\bid=["']{re.escape(unless)}["']""", html):
            return None
        raise DashboardError(f"GET {path}: no form {form_id or field or button}")

    def submit(self, form: HtmlForm, page_url: str, changes: dict[str, str],
               button: tuple[str, str] | None = None) -> Posted:  # fmt: skip
        data = form.values(**changes)
        if button is not None:
            data[button[0]] = button[1]
        started = time.monotonic()
        try:
            answer = self.session.post(
                urljoin(page_url, form.action) if form.action else page_url,
                data=data,
                allow_redirects=False,
                timeout=self.timeout,
                headers={"Referer": page_url},
            )
        except requests.RequestException as error:
            return Posted("error", None, time.monotonic() - started, message=f"{type(error).__name__}: {error}"[:300])
        seconds = time.monotonic() - started
        if answer.status_code in (301, 302, 303):
            return Posted("saved", answer.status_code, seconds, location=answer.headers.get("Location", ""))
        if answer.status_code == 200:
            return Posted("refused", 200, seconds, message=_errors_of(answer.text))
        return Posted("error", answer.status_code, seconds, message=answer.text[:300])


def _errors_of(html: str) -> str:
    """The error texts a re-rendered form shows (class="error" blocks), for the journal."""
    texts = []
    marker = 'class="error'
    start = html.find(marker)
    while start != -1 and len(texts) < 5:
        close = html.find(">", start)
        end = html.find("</", close)
        texts.append(" ".join(html[close + 1 : end].split()))
        start = html.find(marker, end)
    return "; ".join(text for text in texts if text)[:300]
