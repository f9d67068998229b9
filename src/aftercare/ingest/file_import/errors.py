"""Why a whole file cannot be imported (as opposed to one bad row, which is a rejection).

    raise ImportFileError("no such file: orders.csv", code=ImportErrorCode.FILE_NOT_FOUND)

The `aftercare import` command turns these into exit code 1: nothing was read."""

from __future__ import annotations

from enum import StrEnum

from aftercare.core.errors import InvalidInput


class ImportErrorCode(StrEnum):
    FILE_NOT_FOUND = "import_file_not_found"
    UNKNOWN_FORMAT = "import_unknown_format"
    BAD_HEADER = "import_bad_header"
    UNREADABLE = "import_unreadable"


class ImportFileError(InvalidInput):
    code = ImportErrorCode.UNREADABLE
