"""Keep this process's most recently used classifiers, each loaded once."""

import threading
from collections import OrderedDict
from collections.abc import Callable

from classification.ml.artifacts import artifact_from_bytes
from classification.ml.inference import Classifier

# The active version and the one it replaced: enough for a switch-over or a
# re-classification run, without holding every old version's weights in memory.
MAX_CACHED = 2

_lock = threading.Lock()
_cache: OrderedDict[tuple[str, str, str], Classifier] = OrderedDict()


def get_classifier(
    key: str,
    load_bytes: Callable[[], bytes],
    sha256: str,
    *,
    load_served: Callable[[], bytes] | None = None,
    served_sha256: str = "",
    threads: int = 1,
) -> Classifier:
    """Return the classifier of version ``key`` with checksum ``sha256``.

    On a miss, ``load_bytes`` reads the artifact, whose checksum is verified before
    it is loaded, and ``load_served`` (if given) its ONNX export, served on
    ``threads`` threads. The lock is held while loading so that threads asking
    for the same version at once load it once; a load takes about a second.
    """
    cache_key = (key, sha256, served_sha256 if load_served else "")
    with _lock:
        classifier = _cache.get(cache_key)
        if classifier is None:
            classifier = Classifier(
                artifact_from_bytes(load_bytes(), sha256=sha256),
                served=load_served() if load_served else None,
                threads=threads,
            )
            _cache[cache_key] = classifier
            while len(_cache) > MAX_CACHED:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(cache_key)
        return classifier


def loaded_keys() -> set[str]:
    """The keys of the classifiers this process holds in memory."""
    with _lock:
        return {key for key, *_ in _cache}
