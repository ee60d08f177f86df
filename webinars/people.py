"""The school's people: the Teachers, Students and Parents groups, and how a person is named.

Everywhere a person is shown or picked (admin lists, choosers, exports, model ``__str__``), the
full name comes first and the username after it, so two Annas stay apart and a bare login
never stands for a person. Group membership decides who may be picked where: a lesson's
teachers come from Teachers, enrolled students and class members from Students, guardians from
Parents. Models call ``require_group`` in ``clean()``, so forms, imports and the API all refuse
a wrong pick with the same words.
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from webinars.wording import person_in_words

TEACHERS = "Teachers"
STUDENTS = "Students"
PARENTS = "Parents"
SCHOOL_PEOPLE_GROUPS = (TEACHERS, STUDENTS, PARENTS)

# What a member of each group is called in messages ("… is not a teacher").
ROLE_NOUNS = {TEACHERS: _("a teacher"), STUDENTS: _("a student"), PARENTS: _("a parent")}


def person_label(user) -> str:
    """``"Anna Ivanova (anna)"``; the bare username when the account has no name; "" for
    nobody (``wording.person_in_words`` says it)."""
    return "" if user is None else person_in_words(user)


def people_in(group: str) -> QuerySet:
    """Members of ``group``, in the order a school list reads: surname, first name."""
    return (
        get_user_model()
        .objects.filter(groups__name=group)
        .order_by("last_name", "first_name", "username")
    )


def outsiders(*, user_ids: Iterable[int], group: str) -> list:
    """Those of ``user_ids`` who are not in ``group`` (one query)."""
    ids = {pk for pk in user_ids if pk is not None}
    if not ids:
        return []
    members = set(people_in(group).filter(pk__in=ids).values_list("pk", flat=True))
    missing = ids - members
    if not missing:
        return []
    return list(get_user_model().objects.filter(pk__in=missing).order_by("username"))


def not_in_group_message(*, users: Iterable, group: str) -> str:
    names = ", ".join(person_label(user) for user in users)
    return _("%(people)s is not %(role)s (add them to the %(group)s group first).") % {
        "people": names,
        "role": ROLE_NOUNS[group],
        "group": group,
    }


def require_group(*, field: str, group: str, user_ids: Iterable[int]) -> None:
    """Refuse (ValidationError on ``field``) any of ``user_ids`` outside ``group``."""
    wrong = outsiders(user_ids=user_ids, group=group)
    if wrong:
        raise ValidationError({field: not_in_group_message(users=wrong, group=group)})
