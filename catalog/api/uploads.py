"""How a rejected upload answers: one error for every rejected file."""

from config.errors import VitrineError, image_rejection
from imaging.errors import ImageRejected


def rejection_error(rejected: list[tuple[str, ImageRejected]]) -> VitrineError:
    """The error for the rejected files; its status and code are the first one's.

    ``details.files`` lists every rejected file with its own code and message.
    """
    first_name, first = rejected[0]
    message = first.message
    if len(rejected) > 1:
        message = f"{first_name}: {first.message} ({len(rejected)} files rejected)"
    files = [
        {"name": name, "code": error.code, "message": error.message}
        for name, error in rejected
    ]
    return image_rejection(first, message=message, details={"files": files})
