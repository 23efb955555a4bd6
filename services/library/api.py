"""Every operation of the library service, declared once (see shared/operations.py)."""

from __future__ import annotations

from shared.subject_access import PersonalDataApi


class LibraryApi(PersonalDataApi):
    service = "library"
