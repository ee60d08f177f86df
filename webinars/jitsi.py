"""Jitsi join URLs and JWT claims, self-hosted and JaaS (no database access)."""

from django.conf import settings

from webinars.choices import JitsiEnv

JAAS_DOMAIN = "8x8.vc"


def default_domain(env: str) -> str:
    return JAAS_DOMAIN if env == JitsiEnv.JAAS else settings.JITSI_DOMAIN


def room_base_url(*, domain: str, room_name: str, env: str) -> str:
    """The room's URL without a token: ``https://{domain}/{room}`` (JaaS adds the AppID)."""
    if env == JitsiEnv.JAAS:
        return f"https://{domain}/{settings.JAAS_APP_ID}/{room_name}"
    return f"https://{domain}/{room_name}"
