"""A lesson replayed from recorded webhook payloads (tests/fixtures/register/), through the
portal's own endpoints, and the register it gives.

The story, 09:00–09:45 in the school's zone (the room closes at 09:55):

- Tatiana (teacher) is in from 08:55 to 09:47.
- Alice from 09:00 to the end: present. Boris arrives at 09:08: late (on Prosody he also
  spends 09:20–09:35 in a breakout room: still one stay). Chloe drops at 09:10 and rejoins
  at 09:15 for the rest: present, two stays, 40 minutes. Dmitri is kicked at 09:20: left
  early. Eva never comes: absent. Felix clicks Join at 09:03 but never reaches the room:
  absent, since the platform never saw him.
- Paula (Alice's mother) watches from 09:02; her leave never arrives: she leaves at the
  room's close. A guest, "Grandma", watches through the public link from 09:05 to 09:30.

The JaaS file carries one replayed delivery (same key) and the Prosody file one retried post
(same event): neither counts twice.
"""

import pytest

from tests.factories import at
from tests.webinars.register_factories import (
    DAY,
    PROSODY_SECRET,
    load_payloads,
    make_class,
    post_jaas,
    post_prosody,
)
from webinars.choices import ClosedReason
from webinars.models import Attendance
from webinars.selectors.register import room_register
from webinars.services.joins import room_join_public, room_join_user
from webinars.services.rooms import rooms_close

CLICKS = [  # who pressed Join in the portal, and when
    ("TEACHER", "08:54"),
    ("ALICE", "08:59"),
    ("CHLOE", "08:59"),
    ("DMITRI", "09:00"),
    ("PARENT", "09:01"),
    ("FELIX", "09:03"),
    ("BORIS", "09:07"),
    ("CHLOE", "09:14"),
]

EXPECTED = [  # by family name: name, status, first join, last leave, minutes, stays
    ("Alice Brown", "present", "09:00", "09:46", 45, 1),
    ("Chloe Martin", "present", "09:00", "09:46", 40, 2),
    ("Eva Novak", "absent", None, None, 0, 0),
    ("Dmitri Orlov", "left_early", "09:01", "09:20", 19, 1),
    ("Boris Petrov", "late", "09:08", "09:46", 37, 1),
    ("Felix Weber", "absent", None, None, 0, 0),
]
OTHERS = [  # name, role, first join, last leave, minutes
    ("Tatiana Ivanova", "moderator", "08:55", "09:47", 45),
    ("Paula Brown", "observer", "09:02", "09:55", 43),
    ("Grandma", "observer", "09:05", "09:30", 25),
]


def clock(value):
    from webinars.timezones import school_time

    return school_time(value, "%H:%M") or None


def replay(env: str, client, django_capture_on_commit_callbacks, settings, post, fixture):
    settings.PROSODY_EVENT_SECRET = PROSODY_SECRET
    school = make_class(env=env)
    room = school.room
    for who, hhmm in CLICKS:
        room_join_user(room=room, user=school.people[who], ip="10.0.0.7", now=at(DAY, hhmm))
    room_join_public(
        slug=room.public_slug, display_name="Grandma", ip="10.0.0.8", now=at(DAY, "09:04")
    )
    guest_id = Attendance.objects.get(room=room, display_name="Grandma").person_id
    assert guest_id.startswith("guest-")

    payloads = load_payloads(fixture, {"ROOM": room.jitsi_room, "GUEST": guest_id, **school.ids()})
    answers = [post(client, payload) for payload in payloads]
    assert [answer.status_code for answer in answers] == [200] * len(payloads)
    assert answers[-1].json()["duplicate"] or answers[-2].json()["duplicate"]

    with django_capture_on_commit_callbacks(execute=True):
        rooms_close(ids=[room.pk], now=at(DAY, "09:55"), reason=ClosedReason.ENDED)
    assert not Attendance.objects.filter(room=room, left_at__isnull=True).exists()

    entry = room_register(room=room, now=at(DAY, "10:00"))
    expected = [
        (
            line.name,
            line.status,
            clock(line.first_join),
            clock(line.last_leave),
            line.minutes,
            line.presence.stays,
        )
        for line in entry.register.expected
    ]
    others = [
        (line.name, line.role, clock(line.first_join), clock(line.last_leave), line.minutes)
        for line in entry.register.others
    ]
    return expected, others, entry


@pytest.mark.django_db
def test_a_jaas_lesson_replayed_gives_the_register(
    api_client, django_capture_on_commit_callbacks, settings
):
    expected, others, entry = replay(
        "JAAS",
        api_client,
        django_capture_on_commit_callbacks,
        settings,
        post_jaas,
        "jaas_lesson.json",
    )
    assert expected == EXPECTED
    assert others == OTHERS
    assert entry.is_final
    assert entry.register.counts() == {"present": 2, "late": 1, "left_early": 1, "absent": 2}


@pytest.mark.django_db
def test_a_self_hosted_lesson_replayed_from_prosody_event_sync_gives_the_same_register(
    api_client, django_capture_on_commit_callbacks, settings
):
    expected, others, _entry = replay(
        "SELF_HOSTED",
        api_client,
        django_capture_on_commit_callbacks,
        settings,
        post_prosody,
        "prosody_lesson.json",
    )
    assert expected == EXPECTED
    assert others == OTHERS


@pytest.mark.django_db
def test_a_leave_ends_the_persons_open_join_click_too(
    api_client, django_capture_on_commit_callbacks, settings
):
    """The raw rows tell the same story as the register: Dmitri's click ends at his kick."""
    replay(
        "JAAS",
        api_client,
        django_capture_on_commit_callbacks,
        settings,
        post_jaas,
        "jaas_lesson.json",
    )
    dmitri = Attendance.objects.get(source="join_api", user__username="dmitri")
    assert clock(dmitri.left_at) == "09:20"
    felix = Attendance.objects.get(source="join_api", user__username="felix")
    assert clock(felix.left_at) == "09:55"  # never reported: ended at the room's close
