"""Recording files served by Django when SERVE_RECORDINGS_VIA_DJANGO=1 (local storage).

Only names that belong to a READY recording are served. Public recordings (open lessons and
meetings) to anyone; private ones to a holder of a fresh signed link (``?t=…&s=…`` from
``recording_public_url``) or to a signed-in user allowed into the lesson. Single byte ranges
are honoured so the browser's ``<video>`` can seek.
"""

import mimetypes
import re

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.urls import re_path
from django.views.decorators.http import require_safe

from webinars.choices import RecordingStatus
from webinars.models import Recording
from webinars.recordings import (
    recording_is_public,
    recording_media_signature_valid,
    recording_visible_to,
)

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK_SIZE = 256 * 1024


def _file_slice(fh, start: int, length: int):
    try:
        fh.seek(start)
        while length > 0:
            chunk = fh.read(min(CHUNK_SIZE, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        fh.close()


@require_safe
def recording_media(request, name: str):
    recording = (
        Recording.objects.select_related("room__lesson")
        .filter(file=name, status=RecordingStatus.READY)
        .first()
    )
    if recording is None:
        raise Http404("No such recording.")
    room = recording.room
    public = recording_is_public(room=room)
    allowed = (
        public
        or recording_media_signature_valid(
            name=name, stamp=request.GET.get("t", ""), signature=request.GET.get("s", "")
        )
        or (request.user.is_authenticated and recording_visible_to(room=room, user=request.user))
    )
    if not allowed:
        return HttpResponse(
            "This link has expired or is not yours.", status=403, content_type="text/plain"
        )
    storage = recording.file.storage
    size = storage.size(name)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    match = RANGE_RE.match(request.headers.get("Range", ""))
    if match and (match.group(1) or match.group(2)):
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        else:
            start, end = max(size - int(last), 0), size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        response = StreamingHttpResponse(
            _file_slice(storage.open(name, "rb"), start, end - start + 1),
            status=206,
            content_type=content_type,
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    else:
        response = FileResponse(storage.open(name, "rb"), content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


recording_media_urlpatterns = [
    re_path(r"^media/recordings/(?P<name>.+)$", recording_media, name="recording-media"),
]
