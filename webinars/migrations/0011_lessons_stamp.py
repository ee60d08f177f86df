"""PostgreSQL only: a stamp of the lessons table's committed state (``webinars.selectors.
lesson_counts``, which explains why).

``webinars_lessons_version`` holds one row; its ``version`` becomes a fresh UUID in every
transaction that inserts, updates or deletes lessons — written by a deferred constraint trigger,
so at commit, once per transaction and atomically with the rows — and at every TRUNCATE. Any
write counts, whoever makes it: the ORM, bulk writes, raw SQL, a restore. Being deferred, the
stamp's row lock is held only while the writing transaction commits, so writers of lessons do
not queue behind each other's open transactions. Other databases get nothing (the plain count
is used there).
"""

from django.db import migrations

CREATE = """
CREATE TABLE webinars_lessons_version (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    version uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO webinars_lessons_version DEFAULT VALUES;
CREATE FUNCTION webinars_lessons_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- once per transaction: the row trigger fires for every written lesson at commit
    IF current_setting('webinars.lessons_stamped', true) IS DISTINCT FROM txid_current()::text
    THEN
        UPDATE webinars_lessons_version SET version = gen_random_uuid();
        PERFORM set_config('webinars.lessons_stamped', txid_current()::text, true);
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webinars_lesson_stamp
    AFTER INSERT OR UPDATE OR DELETE ON webinars_lesson
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION webinars_lessons_version_bump();
CREATE TRIGGER webinars_lesson_stamp_truncate
    AFTER TRUNCATE ON webinars_lesson
    FOR EACH STATEMENT EXECUTE FUNCTION webinars_lessons_version_bump();
"""

DROP = """
DROP TRIGGER IF EXISTS webinars_lesson_stamp_truncate ON webinars_lesson;
DROP TRIGGER IF EXISTS webinars_lesson_stamp ON webinars_lesson;
DROP FUNCTION IF EXISTS webinars_lessons_version_bump();
DROP TABLE IF EXISTS webinars_lessons_version;
"""


def create_stamp(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_stamp(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("webinars", "0010_api_tokens")]

    operations = [migrations.RunPython(create_stamp, drop_stamp)]
