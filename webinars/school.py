"""The school's people and classes, weekly lesson series and closures (models; imported by
``models.py``).

A ``LessonSeries`` is one row of the paper timetable ("7B, Mathematics, Mondays 08:30–09:15,
from 1 September to 30 June"); the lessons it generates are ordinary ``Lesson`` rows pointing
back at it, so rooms, joins and feeds need to know nothing about series. How generation and
edits behave is described in ``docs/imports.md`` and ``webinars.services.series``.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from webinars.people import PARENTS, STUDENTS, TEACHERS, person_label, require_group

# A series spans one school year at most: a mistyped year must not make a thousand lessons.
MAX_SERIES_SPAN = timedelta(days=366)


class Weekday(models.IntegerChoices):
    """ISO weekday numbers, as the timetable files use them (1 = Monday)."""

    MONDAY = 1, _("Monday")
    TUESDAY = 2, _("Tuesday")
    WEDNESDAY = 3, _("Wednesday")
    THURSDAY = 4, _("Thursday")
    FRIDAY = 5, _("Friday")
    SATURDAY = 6, _("Saturday")
    SUNDAY = 7, _("Sunday")


class SchoolClass(models.Model):
    """A class of students such as "7B"; a lesson naming it is that class's lesson."""

    name = models.CharField(_("name"), max_length=32, unique=True)
    students = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="school_classes",
        verbose_name=_("students"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("class")
        verbose_name_plural = _("classes")

    def __str__(self) -> str:
        return self.name


class Enrollment(models.Model):
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enrollments",
        verbose_name=_("student"),
    )
    subject = models.ForeignKey(
        "webinars.Subject",
        on_delete=models.CASCADE,
        related_name="enrollments",
        verbose_name=_("subject"),
    )

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(fields=["student", "subject"], name="enrollment_unique")
        ]

    def __str__(self) -> str:
        return f"{person_label(self.student)} → {self.subject}"

    def clean(self) -> None:
        super().clean()
        if self.student_id:
            require_group(field="student", group=STUDENTS, user_ids=[self.student_id])


class Guardianship(models.Model):
    parent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="guardianships",
        verbose_name=_("parent"),
    )
    child = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="guardians",
        verbose_name=_("child"),
    )

    class Meta:
        verbose_name = _("guardianship")
        verbose_name_plural = _("guardianships")
        constraints = [
            models.UniqueConstraint(fields=["parent", "child"], name="guardianship_unique"),
            models.CheckConstraint(
                condition=~Q(parent=models.F("child")), name="guardianship_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{person_label(self.parent)} → {person_label(self.child)}"

    def clean(self) -> None:
        super().clean()
        if self.parent_id and self.parent_id == self.child_id:
            raise ValidationError({"child": _("A person cannot be their own parent.")})
        if self.parent_id:
            require_group(field="parent", group=PARENTS, user_ids=[self.parent_id])
        if self.child_id:
            require_group(field="child", group=STUDENTS, user_ids=[self.child_id])


class LessonSeries(models.Model):
    """A weekly lesson at the same wall-clock time in the school's zone, between two dates."""

    subject = models.ForeignKey(
        "webinars.Subject",
        on_delete=models.PROTECT,
        related_name="series",
        verbose_name=_("subject"),
    )
    school_class = models.ForeignKey(
        SchoolClass,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="series",
        verbose_name=_("class"),
    )
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="series_taught",
        verbose_name=_("teacher"),
    )
    co_teachers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="series_co_taught",
        verbose_name=_("co-teachers"),
    )
    title = models.CharField(
        _("title"),
        max_length=200,
        blank=True,
        help_text=_("The lessons' title; the subject's name when empty."),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("starts at"))
    end_time = models.TimeField(_("ends at"))
    first_date = models.DateField(_("first date"))
    last_date = models.DateField(_("last date"))
    is_open = models.BooleanField(
        _("open lessons"),
        default=False,
        help_text=_("Anyone with the public link may watch as an observer."),
    )
    ref = models.CharField(
        _("timetable reference"),
        max_length=64,
        blank=True,
        help_text=_("The school timetable system's own id for this row, if it has one."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["weekday", "start_time", "subject__name"]
        verbose_name = _("lesson series")
        verbose_name_plural = _("lesson series")
        constraints = [
            models.UniqueConstraint(
                fields=["ref"],
                condition=~Q(ref=""),
                name="lesson_series_ref_unique",
                violation_error_message=_("Another series already has this timetable reference."),
            ),
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="series_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(last_date__gte=models.F("first_date")), name="series_dates_in_order"
            ),
        ]

    def __str__(self) -> str:
        who = f" {self.school_class}" if self.school_class_id else ""
        return (
            f"{self.lesson_title}{who}, {self.get_weekday_display()} "
            f"{self.start_time:%H:%M}–{self.end_time:%H:%M}"
        )

    @property
    def lesson_title(self) -> str:
        return self.title or self.subject.name

    def clean(self) -> None:
        super().clean()
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": _("The end must be after the start.")})
        if self.first_date and self.last_date:
            if self.last_date < self.first_date:
                raise ValidationError({"last_date": _("The last date is before the first.")})
            if self.last_date - self.first_date > MAX_SERIES_SPAN:
                raise ValidationError({"last_date": _("A series may span one year at most.")})
        if self.teacher_id:
            require_group(field="teacher", group=TEACHERS, user_ids=[self.teacher_id])

    def teacher_label(self) -> str:
        return person_label(self.teacher)


class SchoolClosure(models.Model):
    """Days the school is shut (holidays, a snow day): no lessons are generated inside them."""

    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date"]
        verbose_name = _("school closure")
        verbose_name_plural = _("school closures")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="closure_dates_in_order"
            )
        ]

    def __str__(self) -> str:
        if self.start_date == self.end_date:
            return f"{self.reason} ({self.start_date:%Y-%m-%d})"
        return f"{self.reason} ({self.start_date:%Y-%m-%d} – {self.end_date:%Y-%m-%d})"

    def clean(self) -> None:
        super().clean()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The last day is before the first.")})
