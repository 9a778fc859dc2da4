"""Train model versions from labelled data and register them; training jobs.

One module per step, in the order a training goes through them:

- ``params``: ``TrainingParams``, what a training is asked to do, checked once
  whether it comes from the ``train_model`` command, the admin's form, the API
  or a stored job;
- ``labels``: the catalog's trusted labels, and label names mapped onto
  category slugs;
- ``data``: the sources (catalog, folder, CSV manifest, Fashion-MNIST) listed
  and split, and for jobs confined to VITRINE_TRAINING_DATA_ROOT;
- ``run``: ``model_train``, which trains, evaluates and registers a version;
- ``jobs``: the same through the training queue, with progress.

Torch is imported lazily so web processes stay light.
"""

from config.errors import InvalidInput


class TrainingError(InvalidInput):
    """The training cannot run as asked; the message says why.

    ``param`` names the training parameter at fault, when one is (the admin's
    form shows the message beside it); the API answers under ``params``.
    """

    field = "params"

    def __init__(self, message: str, *, param: str | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.param = param
