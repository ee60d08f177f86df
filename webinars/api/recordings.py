"""API views: recordings."""

urlpatterns: list = []
