"""The viewer's facts: the join's one-statement SQL and the plain ORM agree, for everyone."""

from dataclasses import asdict
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.management import call_command
from django.utils import timezone

from tests.factories import make_api_token, make_user
from webinars import roles
from webinars.choices import RoomType
from webinars.models import ApiToken, Lesson, Room
from webinars.pages import MeetingIndexPage, MeetingPage
from webinars.roles import Rule
from webinars.selectors.timetable import lessons_for_user
from webinars.selectors.tokens import api_token_for_key
from webinars.selectors.viewer import (
    room_for_joining,
    token_and_room_for_joining,
    viewer_facts_for,
)
from webinars.services.rooms import room_ensure_for_lesson


def _demo_school_with_every_kind_of_room() -> None:
    """The demo school, every lesson with its room, and the cases the demo lacks: co-teachers,
    a staff-only meeting, a meeting without a page, and rooms whose flags disagree with their
    lesson's (a lesson just ticked or unticked as open)."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - closed at exit
    make_user("deputy", is_staff=True)
    make_user("stranger")
    teachers = list(User.objects.filter(username__startswith="teacher").order_by("username"))
    lessons = list(Lesson.objects.order_by("id"))
    for lesson in lessons:
        room_ensure_for_lesson(lesson=lesson)
    lessons[0].co_teachers.add(teachers[1], teachers[2])
    lessons[1].co_teachers.add(teachers[0])
    Room.objects.filter(lesson=lessons[2]).update(is_open=not lessons[2].is_open)
    Room.objects.filter(lesson=lessons[3]).update(is_open=not lessons[3].is_open)
    start = timezone.now() + timedelta(hours=1)
    staff_meeting = MeetingIndexPage.objects.get().add_child(
        instance=MeetingPage(
            title="Staff meeting",
            slug="staff-meeting",
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1),
            is_open=False,
        )
    )
    staff_meeting.hosts.add(teachers[2])
    staff_meeting.save_revision().publish()
    Room.objects.create(
        type=RoomType.MEETING,
        title="A meeting whose page is gone",
        jitsi_domain="jitsi.school.edu",
        is_open=True,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
    )


def _decisions(facts) -> dict:
    """Everything the role table decides from one viewer's facts for one room."""
    return {
        "join": roles.decide_join(facts),
        "join_via_public_link": roles.decide_join(facts, via_public_link=True),
        "permissions": roles.permissions_for(facts=facts, can_enter_now=True),
        "read_room": roles.may_read_room(facts),
        "manage_room": roles.may_manage_room(facts),
        "read_attendance": roles.may_read_attendance(facts),
        "read_calendar": roles.may_read_room_calendar(facts),
        "watch_recordings": roles.may_watch_recordings(facts),
    }


def _token_fields(token: ApiToken) -> dict:
    return {field.attname: getattr(token, field.attname) for field in ApiToken._meta.fields}


@pytest.mark.django_db
def test_the_join_sql_and_the_orm_agree_for_every_user_and_room_of_the_demo_school():
    _demo_school_with_every_kind_of_room()
    users = list(User.objects.order_by("id"))
    keys = {user.pk: make_api_token(user) for user in users}
    # a third of the tokens expired, a third expiring later, a third never: the hot read loads
    # the token whole (expiry included) as the ORM's lookup does; authentication decides
    now = timezone.now()
    for n, user in enumerate(users):
        expires_at = (now - timedelta(days=1), now + timedelta(days=1), None)[n % 3]
        ApiToken.objects.filter(user=user).update(expires_at=expires_at)
    by_orm = {pk: _token_fields(api_token_for_key(key=key)) for pk, key in keys.items()}
    assert {
        fields["expires_at"] is not None and fields["expires_at"] < now
        for fields in by_orm.values()
    } == {True, False}
    room_ids = list(Room.objects.order_by("id").values_list("id", flat=True))
    assert len(users) >= 40 and len(room_ids) >= 35
    rules = set()
    for room_id in room_ids:
        room = Room.objects.select_related("lesson").get(pk=room_id)
        for viewer in [None, AnonymousUser(), *users]:
            orm = viewer_facts_for(room=room, user=viewer)
            hot = room_for_joining(pk=room_id, viewer=viewer)
            assert hot.room.pk == room_id
            assert asdict(hot.facts) == asdict(orm), (room_id, viewer)
            if viewer is not None and viewer.is_authenticated:
                token, bearer = token_and_room_for_joining(key=keys[viewer.pk], pk=room_id)
                assert token.user == viewer and bearer.room.pk == room_id
                assert _token_fields(token) == by_orm[viewer.pk]
                assert asdict(bearer.facts) == asdict(orm), (room_id, viewer)
            assert _decisions(hot.facts) == _decisions(orm)
            rules.add(roles.decide_join(orm).rule)
    # the school exercises every row of both tables, so every fact was compared true and false
    assert {
        Rule.LESSON_TEACHER,
        Rule.LESSON_CO_TEACHER,
        Rule.ENROLLED_STUDENT,
        Rule.PARENT_OF_ENROLLED,
        Rule.SCHOOL_STAFF,
        Rule.OPEN_LESSON_SIGNED_IN,
        Rule.CLOSED_LESSON_OUTSIDER,
        Rule.CLOSED_LESSON_ANONYMOUS,
        Rule.ANONYMOUS_WITHOUT_LINK,
        Rule.MEETING_HOST,
        Rule.OPEN_MEETING_GUEST,
        Rule.STAFF_MEETING_STAFF,
        Rule.STAFF_MEETING_OUTSIDER,
    } <= rules


@pytest.mark.django_db
def test_my_lessons_shows_each_demo_user_the_role_their_join_would_get():
    _demo_school_with_every_kind_of_room()
    now = timezone.now()
    for user in User.objects.order_by("id"):
        mine = lessons_for_user(user=user, now=now, limit=1000)
        listed = {lesson.pk: lesson.my_role for lesson in (*mine.upcoming, *mine.past)}
        rooms = Room.objects.filter(type=RoomType.LESSON).select_related("lesson")
        for room in rooms:
            lesson = room.lesson
            if lesson.is_cancelled or lesson.scheduled_end < now - timedelta(days=30):
                continue
            if lesson.scheduled_start > now + timedelta(days=14):
                continue
            decision = roles.decide_join(room_for_joining(pk=room.pk, viewer=user).facts)
            tied = decision.rule not in (Rule.OPEN_LESSON_SIGNED_IN, Rule.CLOSED_LESSON_OUTSIDER)
            assert (lesson.pk in listed) is tied, (user, lesson)
            if tied:
                assert listed[lesson.pk] == decision.role, (user, lesson)


@pytest.mark.django_db
def test_the_orm_path_costs_one_query_and_none_for_anonymous(django_assert_num_queries):
    _demo_school_with_every_kind_of_room()
    student = User.objects.get(username="student01")
    room = Room.objects.select_related("lesson").filter(type=RoomType.LESSON).first()
    meeting = Room.objects.get(meeting_page__slug="parents-evening")
    with django_assert_num_queries(1):
        assert viewer_facts_for(room=room, user=student).user_id == student.pk
    with django_assert_num_queries(0):
        assert viewer_facts_for(room=room, user=AnonymousUser()).user_id is None
    with django_assert_num_queries(2):  # the meeting's page, then the facts
        assert viewer_facts_for(room=meeting, user=student).room.page_is_open is True
    with django_assert_num_queries(1):
        assert viewer_facts_for(user=student).room is None


@pytest.mark.django_db
def test_the_join_sql_reads_a_meeting_and_its_page_in_one_statement(
    django_assert_num_queries,
):
    _demo_school_with_every_kind_of_room()
    teacher = User.objects.get(username="teacher1")  # hosts the parents' evening
    meeting = Room.objects.get(meeting_page__slug="parents-evening")
    with django_assert_num_queries(1):
        read = room_for_joining(pk=meeting.pk, viewer=teacher)
        assert roles.decide_join(read.facts).rule == Rule.MEETING_HOST
    with django_assert_num_queries(1):
        read = room_for_joining(public_slug=meeting.public_slug)
        assert read.facts.room.is_public and read.facts.user_id is None
