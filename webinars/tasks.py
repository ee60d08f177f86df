"""django-q2 entry points. Their dotted paths are stored in Schedules and queued tasks:
never rename them. Each loads what it needs by id and calls one service."""


def maintain_rooms() -> dict:
    """One scheduler tick (SPEC §3): create, open and close the rooms that are due."""
    from webinars.services.tick import maintain_rooms as run_tick

    return run_tick().as_dict()


def download_recording(recording_id: int) -> None:
    """Fetch a JaaS recording into our storage (SPEC §8); retries are scheduled by the service."""
    from webinars.recordings import recording_download

    recording_download(recording_id=recording_id)


def expire_stale_recordings() -> int:
    """Hourly: recordings whose file never came are FAILED with the reason, never "processing"
    forever (SPEC §8); returns how many."""
    from webinars.recordings import recording_expire_stale

    return recording_expire_stale()


def deliver_webhook(delivery_id: int) -> None:
    """Send one outbound webhook delivery if it is due (docs/webhooks.md)."""
    from webinars.services.webhooks import webhook_delivery_attempt

    webhook_delivery_attempt(delivery_id=delivery_id)


def deliver_due_webhooks() -> int:
    """Every minute: send the webhook retries that are due; returns how many were tried."""
    from webinars.services.webhooks import webhook_deliveries_send_due

    return webhook_deliveries_send_due()
