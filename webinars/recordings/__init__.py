"""Recordings: every file ends up in storage we own, and only the right people watch it.

Two ways in, one way to storage (docs/recordings.md):

* Jibri (self-hosted) leaves an ``.mp4`` in ``RECORDING_LOCAL_DIR``; ``deploy/jibri/finalize.sh``
  posts its path. The path is checked (inside the directory, no ``..``, no symlink escape, a
  regular file) when the request arrives and again when the file is moved.
* JaaS posts a webhook with a link that expires after 24 h; we record the event and a django-q2
  task downloads the file under a strict policy (``fetch``), retrying with backoff.

Both are done by ``recording_download`` (the body of ``webinars.tasks.download_recording``),
which can be cut at any point and finished by the next attempt; the hourly check
(``recording_check``) lists what storage and rows disagree on, and the admin's retry recovers it.

Modules: ``accept`` (checking what arrives, claiming rows), ``ingest`` (the attempt, READY and
FAILED), ``storage`` (names, puts, sizes and checksums in storage), ``recovery`` (the check, the
sweeps, the admin's retry), ``access`` (who watches, signed URLs, shared secrets), ``files``
(Jibri paths, hashing, MP4 duration), ``fetch`` (download policy), ``emails``, ``dev`` (DEBUG
helpers), ``webhooks`` (what a platform's verified webhook events change: the platform's
adapter in ``webinars.providers`` checks and reads them), ``errors``.

``Recording.meta`` keys: ``source`` (jibri, jaas, jaas_dev_form), ``local_path`` (Jibri,
relative to RECORDING_LOCAL_DIR), ``ext``, ``url`` (the download link; dropped once READY),
``url_host``, ``attempts``, ``attempt_at``, ``error``, ``errors`` (last 10),
``next_attempt_at``, ``destination``, ``expected_size``, ``expected_sha256`` (the storage name
and the file's size and sha256, saved before it is written; dropped once READY),
``verified_at`` (the stored file's sha256 last matched), ``idempotency_key``,
``jaas_session_id``, ``jaas_recording_session_id``, ``jibri_metadata``.
"""

from webinars.recordings.accept import recording_accept_jibri_file, recording_accept_link
from webinars.recordings.access import (
    recording_is_public,
    recording_media_signature_valid,
    recording_media_url,
    recording_playback_url,
    recording_public_url,
    recording_secret_valid,
    recording_visible_to,
)
from webinars.recordings.dev import recording_make_dummy, recording_store_upload
from webinars.recordings.emails import recording_recipients
from webinars.recordings.errors import DownloadError, DownloadRefused, RecordingRejected
from webinars.recordings.fetch import download_url_allowed
from webinars.recordings.files import dummy_mp4_bytes, jibri_resolve_path, mp4_duration_secs
from webinars.recordings.ingest import (
    recording_download,
    recording_fail,
    recording_finish,
    retry_delay,
)
from webinars.recordings.recovery import (
    recording_check,
    recording_expire_stale,
    recording_retry,
)
from webinars.recordings.webhooks import webhook_events_handle

__all__ = [
    "DownloadError",
    "DownloadRefused",
    "RecordingRejected",
    "download_url_allowed",
    "dummy_mp4_bytes",
    "jibri_resolve_path",
    "mp4_duration_secs",
    "recording_accept_jibri_file",
    "recording_accept_link",
    "recording_check",
    "recording_download",
    "recording_expire_stale",
    "recording_fail",
    "recording_finish",
    "recording_is_public",
    "recording_make_dummy",
    "recording_media_signature_valid",
    "recording_media_url",
    "recording_playback_url",
    "recording_public_url",
    "recording_recipients",
    "recording_retry",
    "recording_secret_valid",
    "recording_store_upload",
    "recording_visible_to",
    "retry_delay",
    "webhook_events_handle",
]
