"""The broker of the embedded stack: one that needs no service.

`make run` starts a Celery worker beside the web server on kombu's filesystem
transport, under ``$VITRINE_VAR_DIR/broker/`` (the choice, measured against
kombu's SQLAlchemy transport on a SQLite file: README, "Figures",
`bench/embedded_broker.py`). A production broker (Redis) needs none of this.
"""

from pathlib import Path

EMBEDDED_BROKER_URL = "filesystem://"
# Seconds between two looks at an empty queue. kombu's default is 1 s, which
# adds half a second to every upload on average; at 0.1 s an idle worker costs
# about 1 % of a core (bench/embedded_broker.py).
POLLING_INTERVAL = 0.1


def transport_options(url: str, var_dir: Path) -> dict:
    """Celery's ``broker_transport_options`` for a broker that needs no service.

    Empty for any other broker. The filesystem transport's folders are made
    here, as kombu expects them to exist.
    """
    if url.startswith("filesystem:"):
        folder = Path(var_dir) / "broker"
        queue, control = folder / "queue", folder / "control"
        for path in (queue, control):
            path.mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "control_folder": str(control),
            "polling_interval": POLLING_INTERVAL,
        }
    return {}
