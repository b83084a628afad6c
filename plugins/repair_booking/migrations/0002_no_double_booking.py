"""On PostgreSQL: two occupying bookings of one bay can never overlap in time, whatever
the application does (btree_gist exclusion constraint over tstzrange(start, end, '[)')).
SQLite has no such constraint: the booking services' row lock on the bay is the guard."""
from django.db import migrations

STATUSES = "('confirmed', 'checked_in', 'in_service')"  # models.OCCUPYING


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        "ALTER TABLE repair_booking_repairbooking ADD CONSTRAINT repair_booking_no_overlap "
        "EXCLUDE USING gist (bay_id WITH =, tstzrange(start, \"end\", '[)') WITH &&) "
        f"WHERE (status IN {STATUSES})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE repair_booking_repairbooking DROP CONSTRAINT IF EXISTS repair_booking_no_overlap")


class Migration(migrations.Migration):
    dependencies = [("repair_booking", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
