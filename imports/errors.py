"""The import's errors: a refused file (the whole import) or a failed row."""

from http import HTTPStatus

from config.errors import InvalidInput


class ImportRefused(InvalidInput):
    """The uploaded file cannot be imported at all (400, or 413 for a bomb)."""

    code = "import_refused"


class RowFailed(Exception):
    """One row or one photo of the import failed; the rest goes on.

    Not a VitrineError: it never reaches a client as an answer, only the
    job's report.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


TOO_LARGE = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
