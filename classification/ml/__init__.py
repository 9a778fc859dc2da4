"""Plain PyTorch for Vitrine's classifier; nothing here imports Django.

- ``artifacts``: what a model version's artifact holds; save, load, checksum.
- ``architectures``: the registry that finds an artifact's architecture by name:
  ``efficientnet`` (the pretrained ``backbone`` with a head) and ``fashion``
  (a small CNN trained from scratch).
- ``inference`` and ``registry``: a classifier built from an artifact, loaded
  once per process.
- ``training`` (``features``, ``heads``, ``finetune``) and ``fashion_training``:
  the trainers, all on the epoch loop and checkpoints of ``loop``.
- ``data``, ``presets``, ``evaluation``, ``imagenet_map``: what they all share.

``classification.services`` connects it to the ORM and to storage.
"""
