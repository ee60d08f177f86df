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


def notify_tick() -> dict:
    """Every minute: reminders that are due, then every notice still waiting (docs/notices.md)."""
    from webinars.services.notices import notices_tick

    return notices_tick()


def notify_lesson_change(lesson_id: int) -> int:
    """A lesson was cancelled or moved: tell its people once per revision; returns sent count."""
    from webinars.services.notices import lesson_change_plan, notices_send_pending

    lesson_change_plan(lesson_id=lesson_id)
    return notices_send_pending()


def notify_recording_ready(recording_id: int) -> int:
    """A recording is READY: tell everyone it is for; returns how many were sent."""
    from webinars.services.notices import notices_send_pending, recording_ready_plan

    recording_ready_plan(recording_id=recording_id)
    return notices_send_pending()


def email_register(room_id: int) -> int:
    """A lesson's room closed: its register to its teachers (REGISTER_EMAIL_TEACHER)."""
    from webinars.services.notices import notices_send_pending, register_email_plan

    register_email_plan(room_id=room_id)
    return notices_send_pending()
