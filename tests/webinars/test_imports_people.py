"""`manage.py people_import` and the admin's "Import people"."""

import csv
import io

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from tests.factories import make_user
from webinars.models import Guardianship, SchoolClass
from webinars.services.imports import people_import

HEADER = ["username", "first_name", "last_name", "email", "role", "class", "children"]
ROWS = [
    ["ivanova", "Anna", "Ivanova", "anna@school.example", "teacher", "", ""],
    ["smirnova", "Clara", "Smirnova", "clara@school.example", "teacher; parent", "", "dima"],
    ["dima", "Dmitri", "Kuznetsov", "", "student", "7A", ""],
    ["lena", "Elena", "Orlova", "lena@mail.example", "ученик", "7B", ""],
    ["orlov", "Igor", "Orlov", "igor@mail.example", "parent", "", "lena@mail.example"],
]


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def run(rows, header=HEADER, **kwargs):
    return people_import(content=csv_bytes(rows, header), filename="people.csv", **kwargs)


def groups_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


@pytest.mark.django_db
def test_people_classes_and_children_are_created_once():
    report = run(ROWS)
    assert report.ok and report.written, report.text()
    assert report.lines == ["people: 5 created, 0 updated, 0 unchanged", "classes created: 7A, 7B"]
    assert groups_of("smirnova") == {"Teachers", "Parents"}
    assert groups_of("lena") == {"Students"}
    assert list(SchoolClass.objects.get(name="7A").students.values_list("username", flat=True)) == [
        "dima"
    ]
    children = Guardianship.objects.values_list("parent__username", "child__username")
    assert set(children) == {("smirnova", "dima"), ("orlov", "lena")}
    for user in User.objects.all():
        assert not user.has_usable_password()  # passwords are never imported

    again = run(ROWS)
    assert again.lines == ["people: 0 created, 0 updated, 5 unchanged"]
    assert User.objects.count() == 5 and Guardianship.objects.count() == 2


@pytest.mark.django_db
def test_a_changed_row_updates_names_roles_class_and_children():
    run(ROWS)
    rows = [list(row) for row in ROWS]
    rows[0][2] = "Ivanova-Petrova"  # married
    rows[2][5] = "7B"  # moved class
    rows[4][6] = "lena; dima"  # another child
    rows[1][4] = "teacher"  # no longer a parent here
    rows[1][6] = ""
    report = run(rows)
    assert report.lines == ["people: 0 created, 4 updated, 1 unchanged"], report.text()
    assert User.objects.get(username="ivanova").last_name == "Ivanova-Petrova"
    assert list(
        User.objects.get(username="dima").school_classes.values_list("name", flat=True)
    ) == ["7B"]
    assert groups_of("smirnova") == {"Teachers"}
    assert set(Guardianship.objects.values_list("parent__username", "child__username")) == {
        ("orlov", "lena"),
        ("orlov", "dima"),
    }


@pytest.mark.django_db
def test_staff_groups_and_other_columns_are_left_alone():
    director = make_user("ivanova", groups=("Director",), first_name="Anna", last_name="Old")
    director.set_password("kept-secret")
    director.save()
    report = run([["ivanova", "teacher"]], header=["username", "role"])
    assert report.lines == ["people: 0 created, 1 updated, 0 unchanged"]
    director.refresh_from_db()
    assert groups_of("ivanova") == {"Director", "Teachers"}
    assert director.last_name == "Old" and director.check_password("kept-secret")


@pytest.mark.django_db
def test_bad_rows_are_reported_and_nothing_is_written():
    make_user("teacher_only", groups=("Teachers",))
    rows = ROWS + [
        ["bad name!", "", "", "", "student", "", ""],
        ["pilot", "", "", "not-an-email", "astronaut", "", ""],
        ["t2", "", "", "", "teacher", "7A", ""],
        ["p2", "", "", "", "parent", "", "teacher_only; ghost"],
        ["dima", "", "", "", "student", "", ""],
    ]
    report = run(rows)
    assert [str(error) for error in report.errors] == [
        "row 7, username: Enter a valid username. This value may contain only letters, "
        "numbers, and @/./+/-/_ characters.",
        'row 8, role: "astronaut" is not teacher, student or parent',
        "row 8, email: Enter a valid email address.",
        "row 9, class: only students have a class",
        'row 10, children: no student "teacher_only"',
        'row 10, children: no student "ghost"',
        "row 11, username: same person as row 4",
    ]
    assert report.text().endswith("5 bad rows: nothing was written.")
    assert User.objects.count() == 1 and not SchoolClass.objects.exists()


@pytest.mark.django_db
def test_command_sends_password_links_to_new_accounts(tmp_path, capsys, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://webinars.school.example"
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(ROWS))
    call_command("people_import", str(path), "--dry-run", "--send-reset")
    assert not User.objects.exists() and not mail.outbox

    call_command("people_import", str(path), "--send-reset")
    out = capsys.readouterr().out
    assert "people: 5 created, 0 updated, 0 unchanged" in out and "password links sent: 4" in out
    assert sorted(message.to[0] for message in mail.outbox) == [
        "anna@school.example",
        "clara@school.example",
        "igor@mail.example",
        "lena@mail.example",
    ]
    body = next(m.body for m in mail.outbox if m.to == ["anna@school.example"])
    assert "https://webinars.school.example/admin/password_reset/confirm/" in body
    assert "Your username: ivanova" in body

    # The link works although the account's password is unusable: the person chooses one.
    link = next(line for line in body.splitlines() if "/password_reset/confirm/" in line)
    client_path = link.split("webinars.school.example", 1)[1]
    from django.test import Client

    client = Client()
    form_page = client.get(client_path, follow=True)
    assert form_page.status_code == 200
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-Long-new-pass-42", "new_password2": "a-Long-new-pass-42"},
    )
    assert User.objects.get(username="ivanova").check_password("a-Long-new-pass-42")

    mail.outbox.clear()
    call_command("people_import", str(path), "--send-reset")
    assert not mail.outbox  # only accounts the import creates get a link


@pytest.mark.django_db
def test_command_exits_1_on_a_bad_row(tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes([["x", "", "", "", "janitor", "", ""]]))
    with pytest.raises(CommandError) as raised:
        call_command("people_import", str(path))
    assert raised.value.returncode == 1
    assert 'row 2, role: "janitor" is not teacher, student or parent' in capsys.readouterr().err


@pytest.mark.django_db
def test_admin_imports_people_from_the_students_list(admin_user, client):
    client.force_login(admin_user)
    students_page = client.get(reverse("students:index")).content.decode()
    url = reverse("students:import")
    assert url in students_page
    upload = io.BytesIO(csv_bytes(ROWS))
    upload.name = "people.csv"
    preview = client.post(url, {"file": upload})
    assert "people: 5 created, 0 updated, 0 unchanged" in preview.content.decode()
    assert not User.objects.filter(username="dima").exists()
    client.post(url, {"confirm": "1", "token": preview.context["token"]})
    assert Group.objects.get(name="Students").user_set.count() == 2
