"""The sign-in form (everyone signs in through the admin's login page)."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.auth import LoginForm


class SignInForm(LoginForm):
    """Wagtail's login form with the password field labelled: Wagtail leaves its label unset,
    so Django prints the field's name ("Password") in English whatever the language."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].label = _("Password")
