"""Test settings for a real ``manage.py qcluster`` subprocess (tests/webinars/test_scheduler.py).

The suite's settings run django-q2 tasks inline (``sync=True``); a cluster must queue them for
real. The database comes from ``DATABASE_URL``, which the test points at its own test database.
"""

from portal.settings.test import *  # noqa: F403

Q_CLUSTER = {**Q_CLUSTER, "sync": False, "workers": 1, "name": "portal-test"}  # noqa: F405
LOGGING["loggers"]["webinars"]["level"] = "INFO"  # noqa: F405
