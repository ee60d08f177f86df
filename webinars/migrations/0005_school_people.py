from django.db import migrations

# Beside the staff groups of 0002: who may be picked as a lesson's teacher, an enrolled student,
# a class member, a guardian. Names are stored, so they are not translated here.
SCHOOL_PEOPLE_GROUPS = ("Teachers", "Students", "Parents")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth.Group")
    for name in SCHOOL_PEOPLE_GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth.Group").objects.filter(name__in=SCHOOL_PEOPLE_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webinars", "0004_recording_check_issue"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
