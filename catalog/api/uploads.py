"""How a rejected upload answers: one error for every rejected file."""

from rest_framework import status

from config.exceptions import ApiError
from imaging.errors import ImageRejected

# Too big (in bytes or in pixels) is 413; not an image format we read is 415; an
# image file that is empty or damaged is a bad request (400).
REJECTION_STATUS = {
    "file_too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "too_many_pixels": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "not_an_image": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    "unsupported_media_type": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    "corrupt_image": status.HTTP_400_BAD_REQUEST,
    "empty_file": status.HTTP_400_BAD_REQUEST,
}


def rejection_error(rejected: list[tuple[str, ImageRejected]]) -> ApiError:
    """The error for the rejected files; its status and code are the first one's.

    ``details.files`` lists every rejected file with its own code and message.
    """
    first_name, first = rejected[0]
    message = first.message
    if len(rejected) > 1:
        message = f"{first_name}: {first.message} ({len(rejected)} files rejected)"
    return ApiError(
        REJECTION_STATUS.get(first.code, status.HTTP_400_BAD_REQUEST),
        first.code,
        message,
        details={
            "files": [
                {"name": name, "code": error.code, "message": error.message}
                for name, error in rejected
            ]
        },
    )
