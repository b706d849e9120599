from django.urls import path  # noqa: F401

app_name = "walmart_emulator"
urlpatterns: list = []
