"""What the portal told people, and how they want to be told (docs/notices.md).

Imported at the bottom of ``webinars.models``, so these are models of the ``webinars`` app.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from webinars.choices import NoticeKind, NoticeStatus


class PersonPreferences(models.Model):
    """A person's choices about notices: the language of their emails, and no reminders."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="preferences",
        verbose_name=_("person"),
    )
    language = models.CharField(
        _("language of emails"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: the school's language."),
    )
    reminders_opt_out = models.BooleanField(_("no reminders before lessons"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notice preferences")
        verbose_name_plural = _("notice preferences")

    def __str__(self) -> str:
        return f"preferences of {self.user}"

    @property
    def email_language(self) -> str:
        return self.language or settings.LANGUAGE_CODE


class Notice(models.Model):
    """One notice to one person about one version of a lesson (or one recording of a room).

    The unique constraints are what makes "each person hears each notice once" hold with two
    ticks at once, a restart in the middle, or a lesson saved twice: a second plan of the same
    notice fails to insert, and only the row's claimant (``status`` pending → sending) sends it.
    ``version`` is the lesson's ``sequence`` for lesson notices, the recording's id for
    recording-ready ones.
    """

    # Written in bulk by ticks and tasks; never referenced by editorial content.
    wagtail_reference_index_ignore = True

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notices",
        verbose_name=_("person"),
    )
    kind = models.CharField(_("notice"), max_length=16, choices=NoticeKind.choices)
    lesson = models.ForeignKey(
        "webinars.Lesson",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notices",
        verbose_name=_("lesson"),
    )
    room = models.ForeignKey(
        "webinars.Room",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notices",
        verbose_name=_("room"),
    )
    version = models.PositiveIntegerField(_("version"), default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=NoticeStatus.choices, default=NoticeStatus.PENDING
    )
    email = models.EmailField(_("sent to"), blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("planned at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind", "lesson", "version"],
                condition=Q(lesson__isnull=False),
                name="notice_once_per_lesson_version",
            ),
            models.UniqueConstraint(
                fields=["person", "kind", "room", "version"],
                condition=Q(lesson__isnull=True),
                name="notice_once_per_room_version",
            ),
        ]
        indexes = [
            # "has this lesson's version been planned?" (the reminder tick's NOT EXISTS)
            models.Index(fields=["lesson", "kind", "version"], name="notice_lesson_kind"),
            # the waiting ones, which every tick picks up (a few rows, whatever the history)
            models.Index(
                fields=["created_at"],
                condition=Q(status=NoticeStatus.PENDING),
                name="notice_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.person} ({self.get_status_display()})"
