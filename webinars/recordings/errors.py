"""Why a recording was refused or its file could not be fetched."""


class RecordingRejected(Exception):
    """The caller sent something we will not ingest; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class DownloadError(Exception):
    """A failure worth retrying (network, 5xx, 404 while JaaS is still uploading…)."""


class DownloadRefused(DownloadError):
    """A failure no retry can fix (policy refusal, too large): FAILED at once."""
