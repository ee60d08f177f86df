"""``webinars.selectors.lesson_counts.lessons_count`` (a count kept under the lessons' stamp)
equals the plain ``count()`` whatever writes the lessons, and is kept only where that is exact
(its module docstring)."""

import threading
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_api_token, make_lesson, make_room, make_subject, make_user
from webinars.models import Lesson
from webinars.selectors.lesson_counts import lessons_count, lessons_stamp


def stamp():
    return lessons_stamp(connection)


def counts_executed(queries) -> int:
    return sum("COUNT(" in query["sql"] for query in queries.captured_queries)


@pytest.fixture
def lists():
    """Lists as the API builds them: every lesson, a filter on the lesson's own columns, the
    student's kind (ids ORed with open lessons), a period, and none at all."""
    maths, art = make_subject("Maths", "MATH"), make_subject("Art", "ART")
    teacher = make_user("teacher")
    now = timezone.now()
    for n in range(6):
        make_lesson(
            start=now + timedelta(hours=n),
            subject=(maths, art)[n % 2],
            teacher=teacher,
            is_open=n % 3 == 0,
        )
    return {
        "every": Lesson.objects.all(),
        "maths": Lesson.objects.filter(subject_id=maths.pk),
        "student": Lesson.objects.filter(Q(subject_id__in={art.pk}) | Q(is_open=True)),
        "period": Lesson.objects.filter(scheduled_start__lt=now + timedelta(hours=3)),
        "nothing": Lesson.objects.filter(pk__in=[]),
        "subjects": (maths, art),
        "teacher": teacher,
    }


def assert_counts_equal(lists):
    """Each list's kept count is its plain count; asked again, nothing is counted."""
    for name in ("every", "maths", "student", "period"):
        lessons = lists[name]
        assert lessons_count(lessons) == lessons.count(), name
        with CaptureQueriesContext(connection) as queries:
            again = lessons_count(lessons)
        assert again == lessons.count(), name
        assert counts_executed(queries) == 0, f"{name} was counted again"


@pytest.mark.django_db(transaction=True)
def test_the_kept_count_follows_every_kind_of_write(postgres_only, lists):
    caches["per_process"].clear()
    maths, art = lists["subjects"]
    teacher = lists["teacher"]
    assert_counts_equal(lists)

    make_lesson(subject=maths, teacher=teacher)  # the ORM
    assert_counts_equal(lists)
    start = timezone.now() + timedelta(days=1)
    Lesson.objects.bulk_create(  # bulk, as the series and imports write
        Lesson(
            subject=art,
            teacher=teacher,
            title=f"Bulk {n}",
            scheduled_start=start,
            scheduled_end=start + timedelta(minutes=45),
        )
        for n in range(3)
    )
    assert_counts_equal(lists)
    Lesson.objects.filter(subject=art).update(is_open=True)  # an update no signal sees
    assert_counts_equal(lists)
    Lesson.objects.filter(subject=maths).first().delete()
    assert_counts_equal(lists)
    with connection.cursor() as cursor:  # raw SQL
        cursor.execute("UPDATE webinars_lesson SET subject_id = %s", [maths.pk])
    assert_counts_equal(lists)
    with transaction.atomic():  # one transaction writing many rows, and a savepoint rolled back
        Lesson.objects.filter(subject=maths).update(subject=art)
        try:
            with transaction.atomic():
                make_lesson(subject=maths, teacher=teacher)
                raise RuntimeError
        except RuntimeError:
            pass
    assert_counts_equal(lists)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE webinars_lesson CASCADE")
    assert lessons_count(lists["every"]) == 0


@pytest.mark.django_db(transaction=True)
def test_the_stamp_changes_when_lessons_commit_and_only_then(postgres_only, lists):
    before = stamp()
    make_room(Lesson.objects.first())  # rooms are not lessons
    assert stamp() == before
    with transaction.atomic():
        Lesson.objects.update(title="Renamed")
        assert stamp() == before  # written at commit
    after = stamp()
    assert after != before
    with transaction.atomic():
        Lesson.objects.update(title="Renamed")
        transaction.set_rollback(True)
    assert stamp() == after


@pytest.mark.django_db(transaction=True)
def test_an_uncommitted_writer_is_counted_when_it_commits(postgres_only, lists):
    caches["per_process"].clear()
    every = lists["every"]
    total = every.count()
    written, go = threading.Event(), threading.Event()

    def writer():
        try:
            with transaction.atomic():
                make_lesson(subject=lists["subjects"][0], teacher=lists["teacher"])
                written.set()
                go.wait(20)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(20)
        assert lessons_count(every) == total  # not yet committed: not counted, and kept so
        assert lessons_count(every) == total
    finally:
        go.set()
        thread.join(20)
    assert lessons_count(every) == every.count() == total + 1


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_and_across_tables_the_count_is_plain(postgres_only, lists):
    every = lists["every"]
    lessons_count(every)  # kept
    with transaction.atomic():  # its own writes are not stamped yet: counted plainly
        make_lesson(subject=lists["subjects"][0], teacher=lists["teacher"])
        assert lessons_count(every) == every.count()
        transaction.set_rollback(True)
    by_code = Lesson.objects.filter(subject__code__iexact="math")  # reads the subjects too
    assert lessons_count(by_code) == 3
    maths = lists["subjects"][0]
    maths.code = "ALG"
    maths.save()  # no lesson written: the stamp stays, the plain count sees the change
    assert lessons_count(by_code) == by_code.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_api_pages_count_follows_a_new_lesson(postgres_only, lists, api_client):
    caches["per_process"].clear()
    director = make_user("director", groups=["Director"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_token(director)}")
    first = api_client.get("/api/lessons/?page_size=2").json()
    with CaptureQueriesContext(connection) as queries:
        again = api_client.get("/api/lessons/?page=2&page_size=2").json()
    assert first["count"] == again["count"] == 6
    assert counts_executed(queries) == 0
    make_lesson(subject=lists["subjects"][1], teacher=lists["teacher"])
    assert api_client.get("/api/lessons/?page_size=2").json()["count"] == 7


@pytest.mark.django_db
def test_every_database_counts_the_same(lists):
    """On SQLite (and in a test's transaction on PostgreSQL) the plain count."""
    for name in ("every", "maths", "student", "period", "nothing"):
        assert lessons_count(lists[name]) == lists[name].count()
