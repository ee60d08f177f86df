"""The django-q2 Schedules the portal needs, declared in code and installed idempotently.

``install_schedules()`` runs after every ``migrate`` (a ``post_migrate`` receiver in
``webinars.signals``), so a fresh deployment's ``qcluster`` runs the room lifecycle with no
manual step. Rows are matched by name: re-running updates them instead of adding copies, and
an operator's choice to pause one (``repeats=0`` in the admin) is kept.

The room tick runs on its own cluster (``LIFECYCLE_CLUSTER``, started with
``Q_CLUSTER_NAME=lifecycle manage.py qcluster``) so that long recording downloads on the
default cluster never delay a room opening; everything else runs on the default cluster.
"""

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

MAINTAIN_ROOMS = "webinars.maintain_rooms"
EXPIRE_STALE_RECORDINGS = "webinars.expire_stale_recordings"
CHECK_RECORDINGS = "webinars.check_recordings"
LIFECYCLE_CLUSTER = "lifecycle"  # a key of Q_CLUSTER["ALT_CLUSTERS"] (portal/settings/base.py)
DELIVER_DUE_WEBHOOKS = "webinars.deliver_due_webhooks"
NOTIFY_TICK = "webinars.notify_tick"

SCHEDULES = [
    {
        "name": MAINTAIN_ROOMS,
        "func": "webinars.tasks.maintain_rooms",
        "schedule_type": "I",  # Schedule.MINUTES
        "minutes": 1,
        "repeats": -1,
        "cluster": LIFECYCLE_CLUSTER,
    },
    {
        "name": EXPIRE_STALE_RECORDINGS,
        "func": "webinars.tasks.expire_stale_recordings",
        "schedule_type": "H",  # Schedule.HOURLY
        "repeats": -1,
        "cluster": None,  # the default cluster
    },
    {
        "name": CHECK_RECORDINGS,
        "func": "webinars.tasks.check_recordings",
        "schedule_type": "H",  # Schedule.HOURLY
        "repeats": -1,
        "cluster": None,  # the default cluster
    },
    {
        "name": DELIVER_DUE_WEBHOOKS,
        "func": "webinars.tasks.deliver_due_webhooks",
        "schedule_type": "I",  # Schedule.MINUTES
        "minutes": 1,
        "repeats": -1,
        "cluster": None,  # the default cluster: deliveries never hold up the room tick
    },
    {
        "name": NOTIFY_TICK,
        "func": "webinars.tasks.notify_tick",
        "schedule_type": "I",  # Schedule.MINUTES
        "minutes": 1,
        "repeats": -1,
        "cluster": None,  # the default cluster: notices never hold up the room tick
    },
]


def install_schedules(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create or update our Schedules; returns the names that were created.

    Does nothing when django-q2's tables are missing (a partial ``migrate``).
    """
    from django_q.models import Schedule

    if Schedule._meta.db_table not in connections[using].introspection.table_names():
        return []
    created = []
    for spec in SCHEDULES:
        defaults = {k: v for k, v in spec.items() if k != "name"}
        schedule = Schedule.objects.using(using).filter(name=spec["name"]).first()
        if schedule is None:
            Schedule.objects.using(using).create(
                name=spec["name"], next_run=timezone.now(), **defaults
            )
            created.append(spec["name"])
            continue
        changed = [k for k, v in defaults.items() if k != "repeats" and getattr(schedule, k) != v]
        if changed:
            for key in changed:
                setattr(schedule, key, defaults[key])
            schedule.save(using=using, update_fields=changed)
    return created
