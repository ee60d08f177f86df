"""Accounts made for the school's people: no imported passwords, a link to set one instead."""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm

logger = logging.getLogger("webinars.accounts")


class _PasswordLinkForm(PasswordResetForm):
    """Django's reset mail for one chosen account, even one whose password is unusable.

    Django's own form skips accounts without a usable password (so strangers cannot wake
    disabled accounts); imported accounts have none by design, and the school chose them.
    """

    def __init__(self, user):
        super().__init__(data={"email": user.email})
        self.user = user

    def get_users(self, email):
        return [self.user] if self.user.is_active else []


def people_send_password_link(*, users: Iterable) -> int:
    """Email each user (who has an address) Wagtail's link to choose a password.

    The link is the admin's password-reset page, where every account may sign in; returns how
    many mails were sent.
    """
    base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    scheme, _sep, domain = base.partition("://")
    sent = 0
    for user in users:
        if not user.email:
            continue
        form = _PasswordLinkForm(user)
        if not form.is_valid():
            logger.warning("password link not sent user=%s: bad email", user.pk)
            continue
        form.save(
            domain_override=domain,
            use_https=scheme == "https",
            subject_template_name="webinars/emails/password_link_subject.txt",
            email_template_name="webinars/emails/password_link.txt",
        )
        sent += 1
    logger.info("password links sent count=%s", sent)
    return sent
