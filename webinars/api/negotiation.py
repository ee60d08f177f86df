"""Content negotiation for the views that answer text themselves (CSV, iCalendar).

Such a view returns its own ``HttpResponse`` (``text/csv``, ``text/calendar``), so DRF's renderers
only ever render its errors. DRF would still answer 406 to ``Accept: text/calendar`` (what
calendar apps send), since no renderer offers that type. Here the first renderer (JSON) is
always chosen: the 200 is the view's text, every error the JSON error body (docs/api-schema.md).
This is DRF's documented "ignore the client" negotiation.
"""

from rest_framework.negotiation import DefaultContentNegotiation


class TextAnswerNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
