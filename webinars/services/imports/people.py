"""``people_import``: one row per person, identified by username.

The file says who the school's people are: a row's ``role`` sets which of the Teachers,
Students and Parents groups the person is in (staff groups are never touched), a student's
``class`` sets their one class (made if new), a parent's ``children`` set their children
(students of the file or already known). Columns left out of the file are left alone.
Passwords are never imported: new accounts get an unusable one and, if asked, a link by email
to choose their own.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from webinars.models import Guardianship, SchoolClass
from webinars.people import PARENTS, SCHOOL_PEOPLE_GROUPS, STUDENTS, TEACHERS, people_in
from webinars.services.accounts import people_send_password_link
from webinars.services.imports.sheets import (
    ImportReport,
    PeopleIndex,
    RowError,
    SheetHeaderError,
    Tally,
    cell_text,
    parse_list,
    sheet_read,
)

REQUIRED = ("username", "role")
OPTIONAL = ("first_name", "last_name", "email", "class", "children")
NAME_COLUMNS = ("first_name", "last_name", "email")
ROLES = {
    "teacher": TEACHERS,
    "student": STUDENTS,
    "parent": PARENTS,
    "учитель": TEACHERS,
    "ученик": STUDENTS,
    "родитель": PARENTS,
}


@dataclass
class _Person:
    number: int
    user: object
    groups: set
    school_class: str | None = None  # a class name, for students when the column is there
    children: list[str] | None = None  # names as written, for parents when the column is there
    child_users: list = field(default_factory=list)
    outcome: str = "unchanged"
    stored: dict = field(default_factory=dict)  # the name columns as they were before the row


def people_import(
    *, content: bytes, filename: str, dry_run: bool = False, send_links: bool = False
) -> ImportReport:
    """Check a people file and, unless ``dry_run`` or a row is bad, write it all.

    With ``send_links``, every account the import creates (and that has an email) is sent a
    link to choose its password.
    """
    report = ImportReport(dry_run=dry_run)
    try:
        sheet = sheet_read(content=content, filename=filename, required=REQUIRED, optional=OPTIONAL)
    except SheetHeaderError as error:
        report.errors = error.errors
        return report
    columns = set(sheet.columns)
    usernames = [cell_text(cells.get("username")) for _n, cells in sheet.rows]
    existing = {
        user.login: user
        for user in get_user_model()
        .objects.annotate(login=Lower("username"))
        .filter(login__in=[name.lower() for name in usernames])
    }
    people, seen = [], {}
    for number, cells in sheet.rows:
        person = _read_row(number, cells, columns, existing, seen, report.errors)
        if person is not None:
            people.append(person)
    _resolve_children(people, report.errors)
    current = _current_memberships([p.user for p in people if p.user.pk])
    for person in people:
        if person.outcome != "created" and _differs(person, current, columns):
            person.outcome = "updated"

    tally = Tally()
    for person in people:
        tally.count(person.outcome)
    known_classes = {name.lower() for name in SchoolClass.objects.values_list("name", flat=True)}
    new_classes = sorted({p.school_class for p in people if p.school_class}, key=str.lower)
    new_classes = [name for name in new_classes if name.lower() not in known_classes]
    report.errors.sort(key=lambda error: error.row)
    report.lines = [_("people: %(tally)s") % {"tally": tally}]
    if new_classes:
        report.lines.append(_("classes created: %(names)s") % {"names": ", ".join(new_classes)})
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        _write(people, new_classes, columns)
    report.written = True
    if send_links:
        sent = people_send_password_link(users=[p.user for p in people if p.outcome == "created"])
        report.lines.append(_("password links sent: %(count)s") % {"count": sent})
    return report


def _read_row(number, cells, columns, existing, seen, errors) -> _Person | None:
    bad = []
    username = cell_text(cells.get("username"))
    if username.lower() in seen:
        errors.append(
            RowError(
                number,
                "username",
                _("same person as row %(row)s") % {"row": seen[username.lower()]},
            )
        )
        return None
    seen[username.lower()] = number
    groups = set()
    for role in parse_list(cells.get("role")):
        if role.lower() not in ROLES:
            bad.append(
                RowError(
                    number,
                    "role",
                    _('"%(role)s" is not teacher, student or parent') % {"role": role},
                )
            )
        else:
            groups.add(ROLES[role.lower()])
    if not groups and not bad:
        bad.append(RowError(number, "role", _("empty")))
    user = existing.get(username.lower())
    outcome = "unchanged" if user else "created"
    if user is None:
        user = get_user_model()(username=username)
        user.set_unusable_password()
    stored = {name: getattr(user, name) for name in NAME_COLUMNS}
    for name in NAME_COLUMNS:
        if name in columns:
            setattr(user, name, cell_text(cells.get(name)))
    try:
        user.full_clean(exclude=["password"] + [n for n in NAME_COLUMNS if n not in columns])
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            bad.extend(RowError(number, name, message) for message in messages)
    person = _Person(number=number, user=user, groups=groups, outcome=outcome, stored=stored)
    # With the column in the file, a person who is not (or no longer) a student has no class,
    # and one who is not a parent has no children here.
    class_name = cell_text(cells.get("class"))
    if class_name and STUDENTS not in groups:
        bad.append(RowError(number, "class", _("only students have a class")))
    elif "class" in columns:
        person.school_class = class_name
    children = parse_list(cells.get("children"))
    if children and PARENTS not in groups:
        bad.append(RowError(number, "children", _("only parents have children here")))
    elif "children" in columns:
        person.children = children
    errors.extend(bad)
    return None if bad else person


def _resolve_children(people: list[_Person], errors: list) -> None:
    """A parent's children are students: of this file, or already in Students."""
    index = PeopleIndex(name for person in people for name in person.children or ())
    file_students = {}
    for person in people:
        if STUDENTS in person.groups:
            file_students[person.user.username.lower()] = person.user
            if person.user.email:
                file_students.setdefault(person.user.email.lower(), person.user)
    student_ids = set(people_in(STUDENTS).values_list("pk", flat=True))
    for person in people:
        for name in person.children or ():
            try:
                child = file_students.get(name.lower()) or index.find(name)
            except ValueError as error:
                errors.append(RowError(person.number, "children", str(error)))
                continue
            is_student = child is not None and (
                child.pk in student_ids or child in file_students.values()
            )
            if not is_student:
                errors.append(
                    RowError(person.number, "children", _('no student "%(name)s"') % {"name": name})
                )
            elif child.username == person.user.username:
                errors.append(
                    RowError(person.number, "children", _("a person cannot be their own parent"))
                )
            else:
                person.child_users.append(child)


def _current_memberships(users) -> dict:
    """``{user id: (school groups, class names, child ids)}`` in three queries."""
    ids = [user.pk for user in users]
    groups, classes, children = defaultdict(set), defaultdict(set), defaultdict(set)
    through = get_user_model().groups.through.objects.filter(
        user_id__in=ids, group__name__in=SCHOOL_PEOPLE_GROUPS
    )
    for user_id, name in through.values_list("user_id", "group__name"):
        groups[user_id].add(name)
    members = SchoolClass.students.through.objects.filter(user_id__in=ids)
    for user_id, name in members.values_list("user_id", "schoolclass__name"):
        classes[user_id].add(name)
    for parent_id, child_id in Guardianship.objects.filter(parent_id__in=ids).values_list(
        "parent_id", "child_id"
    ):
        children[parent_id].add(child_id)
    return {pk: (groups[pk], classes[pk], children[pk]) for pk in ids}


def _differs(person: _Person, current: dict, columns: set) -> bool:
    user = person.user
    groups, classes, children = current[user.pk]
    if any(person.stored[name] != getattr(user, name) for name in NAME_COLUMNS if name in columns):
        return True
    if groups != person.groups:
        return True
    if person.school_class is not None and classes != ({person.school_class} - {""}):
        return True
    return person.children is not None and children != {c.pk for c in person.child_users}


def _write(people: list[_Person], new_classes: list[str], columns: set) -> None:
    User = get_user_model()
    User.objects.bulk_create([p.user for p in people if p.outcome == "created"])
    for person in people:
        if person.outcome == "updated":
            person.user.save(update_fields=[n for n in NAME_COLUMNS if n in columns] or None)
    SchoolClass.objects.bulk_create([SchoolClass(name=name) for name in new_classes])
    school_groups = {g.name: g for g in Group.objects.filter(name__in=SCHOOL_PEOPLE_GROUPS)}
    for name in SCHOOL_PEOPLE_GROUPS:
        school_groups.setdefault(name, Group.objects.get_or_create(name=name)[0])
    classes = {item.name.lower(): item for item in SchoolClass.objects.all()}
    for person in people:
        if person.outcome == "unchanged":
            continue
        user = person.user
        user.groups.remove(*school_groups.values())
        user.groups.add(*(school_groups[name] for name in person.groups))
        if person.school_class is not None:
            user.school_classes.set(
                [classes[person.school_class.lower()]] if person.school_class else []
            )
        if person.children is not None:
            keep = {child.pk for child in person.child_users}
            Guardianship.objects.filter(parent=user).exclude(child_id__in=keep).delete()
            Guardianship.objects.bulk_create(
                [Guardianship(parent=user, child=child) for child in person.child_users],
                ignore_conflicts=True,
            )
