from django.db import migrations


def seed(apps, schema_editor):
    from hocba.school.tt22_plan import SUBJECTS

    Subject = apps.get_model("school", "Subject")
    for order, (code, name, kind, _periods, _elective, integrated) in enumerate(SUBJECTS, start=1):
        Subject.objects.update_or_create(code=code, defaults={"name": name, "kind": kind,
                                                              "integrated": integrated, "order": order})


class Migration(migrations.Migration):
    dependencies = [("school", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
