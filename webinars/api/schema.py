def only_our_api(endpoints):
    """drf-spectacular preprocessing hook: document our /api/ only, not Wagtail's internals."""
    return [
        endpoint
        for endpoint in endpoints
        if endpoint[0].startswith("/api/") and not endpoint[0].startswith("/api/v2/")
    ]
