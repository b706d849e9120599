"""The request type of the dashboard's views: every page needs a logged-in user (LoginRequiredMiddleware),
so `request.user` is a `User` there, never the anonymous one."""

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    user: User
