"""API views: rooms."""

urlpatterns: list = []
