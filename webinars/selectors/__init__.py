"""Reads only: the queries pages, API views, feeds and tasks share. Nothing here writes.

One module per area: ``health``, ``open_lessons``, ``public_rooms``, ``timetable``,
``dashboard`` and ``viewer`` (a viewer's facts about a room, the role table's input).
"""
