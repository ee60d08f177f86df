"""django-q2 entry points. Their dotted paths are stored in Schedules and queued tasks:
never rename them. Each loads what it needs by id and calls one service."""


def maintain_rooms() -> dict:
    """One scheduler tick: create, open and close the rooms that are due (docs/lifecycle.md)."""
    from webinars.services.tick import maintain_rooms as run_tick

    return run_tick().as_dict()


def download_recording(recording_id: int) -> None:
    """Bring a recording (Jibri file or JaaS link) into storage; retries are scheduled by the
    service, and an attempt cut anywhere is finished by the next (docs/recordings.md)."""
    from webinars.recordings import recording_download

    recording_download(recording_id=recording_id)


def expire_stale_recordings() -> int:
    """Hourly: recordings whose file never came are FAILED with the reason, never "processing"
    forever (docs/recordings.md); returns how many."""
    from webinars.recordings import recording_expire_stale

    return recording_expire_stale()


def check_recordings() -> dict:
    """Hourly: storage and recording rows compared, the findings listed in the admin, stalled
    ingests queued again (docs/recordings.md); returns the counts."""
    from webinars.recordings import recording_check

    return recording_check().as_dict()


def deliver_webhook(delivery_id: int) -> None:
    """Send one outbound webhook delivery if it is due (docs/webhooks.md)."""
    from webinars.services.webhooks import webhook_delivery_attempt

    webhook_delivery_attempt(delivery_id=delivery_id)


def deliver_due_webhooks() -> int:
    """Every minute: send the webhook retries that are due; returns how many were tried."""
    from webinars.services.webhooks import webhook_deliveries_send_due

    return webhook_deliveries_send_due()
