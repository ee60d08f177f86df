"""Imports of the school's spreadsheets: the timetable and its people (``docs/imports.md``)."""

from webinars.services.imports.people import people_import
from webinars.services.imports.sheets import ImportFileError, ImportReport
from webinars.services.imports.timetable import timetable_import

__all__ = ["ImportFileError", "ImportReport", "people_import", "timetable_import"]
