from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"

    def ready(self):
        from django.db.backends.signals import connection_created

        from dashboard.aggregates import register_sqlite_functions

        # PostgreSQL has percentile_cont; SQLite gets an equivalent aggregate on
        # each new connection, the way Django registers STDDEV_POP there.
        connection_created.connect(
            register_sqlite_functions, dispatch_uid="dashboard-sqlite-functions"
        )
