"""Admin pages that change many lessons at once: imports (upload → preview → confirm), snow day.

Each page shows exactly what will happen (the import's dry-run report, the day's lessons)
before a second, CSRF-protected POST does it. The uploaded file waits in the session between
the two steps, tied to the preview by a token, so what is confirmed is what was previewed.
"""

import base64
import secrets

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from webinars.forms import PeopleUploadForm, SnowDayForm, TimetableUploadForm
from webinars.models import Lesson
from webinars.services.imports import ImportFileError, people_import, timetable_import
from webinars.services.series import lessons_cancel_day
from webinars.services.series_plans import day_span


class _AdminPage(WagtailAdminTemplateMixin, TemplateView):
    permissions: tuple[str, ...] = ()
    header_icon = "upload"
    index_url_name = "lessons:index"
    index_label = _("Lessons")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perms(self.permissions):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse(self.index_url_name), "label": _("Lessons")},
            {"url": "", "label": self.page_title},
        ]


class SpreadsheetImportView(_AdminPage):
    template_name = "webinars/admin/import.html"
    form_class = None
    session_key = ""
    doc_columns = ""

    def run(self, *, content: bytes, filename: str, dry_run: bool, options: dict):
        raise NotImplementedError

    def options(self, form) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.form_class()))

    def post(self, request, *args, **kwargs):
        if "confirm" in request.POST:
            return self.confirm(request)
        form = self.form_class(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            report = self.run(
                content=content, filename=upload.name, dry_run=True, options=self.options(form)
            )
        except ImportFileError as error:
            form.add_error("file", str(error))
            return self.render_to_response(self.get_context_data(form=form))
        token = secrets.token_urlsafe(16) if report.ok else ""
        if token:
            request.session[self.session_key] = {
                "token": token,
                "filename": upload.name,
                "content": base64.b64encode(content).decode(),
                "options": self.options(form),
            }
        return self.render_to_response(
            self.get_context_data(form=form, report=report, token=token, filename=upload.name)
        )

    def confirm(self, request):
        pending = request.session.get(self.session_key)
        if not pending or pending["token"] != request.POST.get("token"):
            messages.error(request, _("That preview has expired: upload the file again."))
            return redirect(request.path)
        del request.session[self.session_key]
        try:
            report = self.run(
                content=base64.b64decode(pending["content"]),
                filename=pending["filename"],
                dry_run=False,
                options=pending["options"],
            )
        except ImportFileError as error:
            messages.error(request, str(error))
            return redirect(request.path)
        if report.ok:
            messages.success(request, " · ".join([*report.lines, report.verdict()]))
            return redirect(self.index_url_name)
        messages.error(request, report.verdict())
        return self.render_to_response(
            self.get_context_data(form=self.form_class(), report=report, token="")
        )


class TimetableImportView(SpreadsheetImportView):
    page_title = _("Import timetable")
    form_class = TimetableUploadForm
    session_key = "webinars.timetable_import"
    permissions = (
        "webinars.add_lessonseries",
        "webinars.change_lessonseries",
        "webinars.add_lesson",
    )
    doc_columns = (
        "subject, class, teacher, weekday, start, end, first_date, last_date, open, title, ref"
    )

    def options(self, form) -> dict:
        return {"allow_past": bool(form.cleaned_data.get("allow_past"))}

    def run(self, *, content, filename, dry_run, options):
        return timetable_import(content=content, filename=filename, dry_run=dry_run, **options)


class PeopleImportView(SpreadsheetImportView):
    page_title = _("Import people")
    form_class = PeopleUploadForm
    session_key = "webinars.people_import"
    permissions = ("auth.add_user", "auth.change_user")
    index_url_name = "students:index"
    doc_columns = "username, first_name, last_name, email, role, class, children"

    def get_breadcrumbs_items(self):
        return [
            {"url": reverse(self.index_url_name), "label": _("Students")},
            {"url": "", "label": self.page_title},
        ]

    def options(self, form) -> dict:
        return {"send_links": bool(form.cleaned_data.get("send_links"))}

    def run(self, *, content, filename, dry_run, options):
        return people_import(content=content, filename=filename, dry_run=dry_run, **options)


class SnowDayView(_AdminPage):
    """Cancel every lesson of one day that has not started, by closing the school that day."""

    template_name = "webinars/admin/snow_day.html"
    page_title = _("Snow day")
    header_icon = "warning"
    permissions = ("webinars.change_lesson", "webinars.add_schoolclosure")

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=SnowDayForm()))

    def post(self, request, *args, **kwargs):
        form = SnowDayForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        day, reason = form.cleaned_data["day"], form.cleaned_data["reason"]
        if "confirm" not in request.POST:
            first, last = day_span(day, day)
            lessons = Lesson.objects.select_related("subject", "teacher", "school_class").filter(
                is_cancelled=False,
                scheduled_start__gte=max(first, timezone.now()),
                scheduled_start__lt=last,
            )
            return self.render_to_response(
                self.get_context_data(form=form, lessons=list(lessons), previewed=True)
            )
        closure, cancelled = lessons_cancel_day(day=day, reason=reason)
        messages.success(
            request,
            _("%(closure)s: %(count)s lessons cancelled.")
            % {"closure": closure, "count": cancelled},
        )
        return redirect(self.index_url_name)
