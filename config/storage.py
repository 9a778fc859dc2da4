"""Static files storage."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed and compressed static files, scripts kept byte for byte.

    The manifest storage rewrites a script's ``sourceMappingURL`` to the hashed
    map: that changes bytes a Subresource Integrity hash was computed on (the
    vendored Chart.js), and fails outright when the map is not shipped. Style
    sheets are still rewritten, so their ``url()`` references stay hashed.
    """

    patterns = tuple(
        (glob, rules)
        for glob, rules in CompressedManifestStaticFilesStorage.patterns
        if glob != "*.js"
    )
