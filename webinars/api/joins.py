"""API views: joins."""

urlpatterns: list = []
