#!/bin/sh
# Jibri finalize script for the Cedar webinar portal (SPEC §8).
#
# Jibri runs it with one argument, the folder of one recording session:
#     <recordings dir>/<session id>      (holds <room>_<date>.mp4 and metadata.json)
# Set it in jibri.conf:  jibri.recording.finalize-script = "/opt/cedar/finalize.sh"
#
# What it does: for every .mp4 in that folder it POSTs
#     {"file_path": "<session id>/<file>.mp4", "file_ext": "mp4"}
# to  $CEDAR_PORTAL_URL/api/recordings/jibri/  with the header X-Recording-Secret.
#
# Why this shape (decided, simplest and robust):
# * The path is sent RELATIVE to the recordings directory, so Jibri and the portal may mount
#   the shared volume at different places: the portal joins it onto its RECORDING_LOCAL_DIR
#   (which must be the same volume as Jibri's recordings dir) and refuses anything outside.
# * The script does not work out the room: the portal reads metadata.json beside the file
#   (its meeting_url ends with the room name), so no JSON parsing is needed here. If you
#   prefer, /api/rooms/{id}/recording/uploaded/ takes the same body when you know the id.
# * The portal only validates and queues the move, answering at once (202); Jibri waits for
#   this script and ignores its exit code, so it gives up quickly (curl --max-time) and logs.
#   A file that could not be announced stays in place: re-run this script to announce it.
#
# Environment: CEDAR_PORTAL_URL (default http://web:8000), RECORDING_WEBHOOK_SECRET (required),
#              CEDAR_FINALIZE_TIMEOUT (seconds per request, default 20).
set -u

DIR="${1:?usage: finalize.sh <jibri recording session directory>}"
PORTAL="${CEDAR_PORTAL_URL:-http://web:8000}"
SECRET="${RECORDING_WEBHOOK_SECRET:?RECORDING_WEBHOOK_SECRET is not set}"
TIMEOUT="${CEDAR_FINALIZE_TIMEOUT:-20}"
SESSION="$(basename "$DIR")"
status=0

for file in "$DIR"/*.mp4; do
    [ -f "$file" ] || continue
    relative="$SESSION/$(basename "$file")"
    # Jibri's names are [A-Za-z0-9_-.]; escape \ and " anyway to keep the JSON valid.
    escaped="$(printf '%s' "$relative" | sed 's/\\/\\\\/g; s/"/\\"/g')"
    if curl --silent --show-error --fail --max-time "$TIMEOUT" \
        --retry 2 --retry-delay 2 --retry-connrefused \
        -H "X-Recording-Secret: $SECRET" -H "Content-Type: application/json" \
        --data "{\"file_path\": \"$escaped\", \"file_ext\": \"mp4\"}" \
        "$PORTAL/api/recordings/jibri/" >/dev/null; then
        echo "cedar finalize: announced $relative"
    else
        echo "cedar finalize: could not announce $relative (left in place)" >&2
        status=1
    fi
done
exit "$status"
