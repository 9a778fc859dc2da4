"""Plain PyTorch for Vitrine's classifier: backbone, preprocessing, heads, inference.

Nothing here imports Django; ``classification.services`` connects it to the ORM and
to storage.
"""
