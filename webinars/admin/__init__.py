"""The Wagtail admin: lessons, series, closures, classes, people, imports (the school's side);
rooms, recordings, attendance, join decisions (what the system writes, in the school's words:
``screens``); outbound webhooks.

Viewsets only (registered through ``webinars.viewsets.WebinarsViewSetGroup``); what they do on
save or on an action is one call into ``webinars.services``.
"""
