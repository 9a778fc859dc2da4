"""The architectures a model version may have, found by the name its artifact gives.

As ``django.contrib.auth`` finds a password hasher by its algorithm, the
classifier asks here for the architecture an artifact names, and that
architecture builds the network from the artifact. Another architecture is an
``artifacts.Architecture`` added to the list below.
"""

from classification.ml.artifacts import Architecture
from classification.ml.efficientnet import EfficientNetLite0Architecture
from classification.ml.fashion import FashionCnnArchitecture

ARCHITECTURES: dict[str, Architecture] = {
    architecture.name: architecture
    for architecture in (EfficientNetLite0Architecture(), FashionCnnArchitecture())
}


def get_architecture(name: str) -> Architecture:
    """Return the architecture called ``name``; ValueError for an unknown one."""
    try:
        return ARCHITECTURES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unsupported architecture {name!r}") from None
