"""The school's side of the Wagtail admin: lessons, series, closures, classes, people, imports.

Viewsets only (registered through ``webinars.viewsets.WebinarsViewSetGroup``); what they do on
save or on an action is one call into ``webinars.services``.
"""
