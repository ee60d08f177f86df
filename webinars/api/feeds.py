"""API views: feeds."""

urlpatterns: list = []
