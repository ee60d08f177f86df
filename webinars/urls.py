"""Public HTML views (SPEC §6)."""

app_name = "webinars"
urlpatterns: list = []
