import os

import pytest


@pytest.fixture(autouse=True)
def _media_and_mail(settings, tmp_path):
    """Uploads go to a per-test folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are skipped, with the reason, on other databases.

    Transactional tests flush the database when they end, which would also remove the rows the
    data migrations create (roles, statuses) for every later test; they must restore them with
    serialized rollback.
    """
    from django.conf import settings

    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get(
            "serialized_rollback"
        ):
            raise pytest.UsageError(
                f"{item.nodeid}: use @pytest.mark.django_db(transaction=True, "
                "serialized_rollback=True) so the migration-created roles and statuses survive"
            )

    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if "postgresql" in vendor:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL to run it)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def on_postgres():
    from django.db import connection

    return connection.vendor == "postgresql"


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
