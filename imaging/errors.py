"""The one error for an image that is refused or cannot be read."""


class ImageRejected(ValueError):
    """The bytes are not an image we accept; ``code`` names the reason.

    Codes: ``not_an_image``, ``unsupported_media_type``, ``too_many_pixels``,
    ``corrupt_image``; callers that check the bytes before decoding add their own
    (``file_too_large``, ``empty_file``).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
