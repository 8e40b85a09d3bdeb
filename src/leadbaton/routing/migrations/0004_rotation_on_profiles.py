# The rotation moves to the reps' profiles (accounts.RepProfile.rotation_turn).

from django.db import migrations


def rotation_to_profiles(apps, schema_editor):
    """Each team's last rep becomes the holder of the team's first turn, so the rotation goes on after them."""
    RepProfile = apps.get_model("accounts", "RepProfile")
    states = apps.get_model("routing", "RoutingState").objects.exclude(last_rep=None)
    for state in states:
        RepProfile.objects.filter(user_id=state.last_rep_id, team_id=state.team_id).update(rotation_turn=1)
    # Nothing points at a user from the column the models no longer know (deleting that user would fail).
    states.update(last_rep=None)


class Migration(migrations.Migration):

    dependencies = [
        ('routing', '0003_queue_memory'),
        ('accounts', '0004_rotation_turn'),
    ]

    operations = [
        migrations.RunPython(rotation_to_profiles, migrations.RunPython.noop),
        # The columns stay in the database for one release, so processes of the previous release that
        # still run during a rolling upgrade keep working; a later migration drops them.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name='routingstate', name='last_rep'),
                migrations.RemoveField(model_name='routingstate', name='updated_at'),
            ],
        ),
    ]
