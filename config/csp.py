"""Sources the Content-Security-Policy must allow beyond the site's own origin,
derived from the settings that point the browser elsewhere."""

from urllib.parse import urlsplit


def script_sources(*, chartjs_url: str) -> list[str]:
    """The Chart.js file itself when it comes from another host, else nothing.

    The exact file rather than its whole origin: a CDN serves every package
    published to it, so allowing the host would let an injected tag load any of
    them.
    """
    parts = urlsplit(chartjs_url)
    if not parts.netloc:  # a static file or a path on this site: 'self'
        return []
    return [f"{parts.scheme or 'https'}://{parts.netloc}{parts.path}"]


def image_sources(*, bucket: str, endpoint_url: str, region: str) -> list[str]:
    """Where the bucket's presigned photo URLs point, when photos live in S3.

    Photo pages link to our own views, which redirect there; a redirect target
    must be allowed as well.
    """
    if not bucket:
        return []
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        scheme, host = parts.scheme or "https", parts.netloc
        # Path-style URLs on the endpoint, virtual-hosted ones on a subdomain.
        return [f"{scheme}://{host}", f"{scheme}://{bucket}.{host}"]
    hosts = ["s3.amazonaws.com"]
    if region:
        hosts.append(f"s3.{region}.amazonaws.com")
    return [
        source
        for host in hosts
        for source in (f"https://{host}", f"https://{bucket}.{host}")
    ]
