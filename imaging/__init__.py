"""Reading photos with Pillow: decode, check, orient, convert to RGB, shrink.

Plain Python, Pillow and numpy: no Django and no app. Uploads (``catalog``),
training data and inference (``classification.ml``) all decode through
``imaging.decode.decode_image``, so the upload check, the thumbnail, the
classifier and a training run see the same pixels. Limits come in as arguments;
the callers read them from settings.

- ``errors``: ImageRejected, the one error a refused or unreadable image raises.
- ``decode``: formats, limits, orientation, the first frame.
- ``colour``: any Pillow mode to 8-bit RGB.
- ``resize``: downscaling, thumbnails and the perceptual hash.
"""
