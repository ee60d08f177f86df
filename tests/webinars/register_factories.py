"""A small class for register and notice tests: a lesson, its teacher, students and a parent;
helpers that post webhooks the way the platforms do."""

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.auth.models import User

from tests.factories import (
    at,
    enroll,
    make_guardian,
    make_lesson,
    make_room,
    make_subject,
    make_user,
)
from webinars.models import Lesson, Room

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "register"
DAY = "2026-10-12"  # a Monday; the school's zone is still on summer time
PROSODY_SECRET = "prosody-test-secret"


@dataclass
class Klass:
    lesson: Lesson
    room: Room
    teacher: User
    students: dict[str, User]
    parent: User
    people: dict[str, User] = field(default_factory=dict)

    def ids(self) -> dict[str, str]:
        return {name: str(user.pk) for name, user in self.people.items()}


def make_class(
    *, start: datetime | None = None, is_open: bool = True, env: str = "SELF_HOSTED"
) -> Klass:
    """Tatiana teaches Alice, Boris, Chloe, Dmitri, Eva and Felix; Paula is Alice's mother."""
    start = start or at(DAY, "09:00")
    subject = make_subject("Mathematics", "MATH")
    teacher = make_user("tatiana", first_name="Tatiana", last_name="Ivanova")
    names = {
        "ALICE": ("Alice", "Brown"),
        "BORIS": ("Boris", "Petrov"),
        "CHLOE": ("Chloe", "Martin"),
        "DMITRI": ("Dmitri", "Orlov"),
        "EVA": ("Eva", "Novak"),
        "FELIX": ("Felix", "Weber"),
    }
    students = {}
    for key, (first, last) in names.items():
        students[key] = make_user(first.lower(), first_name=first, last_name=last)
        enroll(students[key], subject)
    parent = make_user("paula", first_name="Paula", last_name="Brown")
    make_guardian(parent, students["ALICE"])
    lesson = make_lesson(
        start=start, subject=subject, teacher=teacher, title="Fractions", is_open=is_open
    )
    room = make_room(lesson)
    if env != room.jitsi_env:
        room.jitsi_env = env
        room.save(update_fields=["jitsi_env"])
    people = {"TEACHER": teacher, "PARENT": parent, **students}
    return Klass(
        lesson=lesson, room=room, teacher=teacher, students=students, parent=parent, people=people
    )


def load_payloads(name: str, substitutions: dict[str, str]) -> list[dict]:
    """A recorded payload file with ``$ROOM``, ``$ALICE``… replaced by this test's values."""
    text = (FIXTURES / name).read_text()
    for key in sorted(substitutions, key=len, reverse=True):
        text = text.replace(f"${key}", substitutions[key])
    return json.loads(text)


def jaas_signature(body: bytes, secret: str = "test-jaas-secret") -> str:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).digest()
    return f"t={stamp},v1={base64.b64encode(digest).decode()}"


def post_jaas(client, payload: dict):
    body = json.dumps(payload).encode()
    return client.post(
        "/api/webhooks/jaas/",
        data=body,
        content_type="application/json",
        HTTP_X_JAAS_SIGNATURE=jaas_signature(body),
    )


def prosody_path(payload: dict) -> str:
    scope, _sep, action = payload["event_name"].removeprefix("muc-").partition("-")
    return f"/api/webhooks/prosody/events/{scope}/{action}"


def post_prosody(client, payload: dict, secret: str = PROSODY_SECRET):
    return client.post(
        prosody_path(payload),
        data=json.dumps(payload).encode(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def minutes_after(start: datetime, minutes: float) -> datetime:
    return start + timedelta(minutes=minutes)
