# A submission is timed work (core.models.DueRow): its next try is `due_at`, as for every due row.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0003_claims_name_their_holder'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='submission',
            name='submission_unfinished_due',
        ),
        migrations.RenameField(
            model_name='submission',
            old_name='next_attempt_at',
            new_name='due_at',
        ),
        migrations.AddIndex(
            model_name='submission',
            index=models.Index(condition=models.Q(('due_at__isnull', False), ('status__in', ['received', 'failed'])), fields=['due_at'], name='submission_unfinished_due'),
        ),
        migrations.AlterField(
            model_name='submission',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0, help_text='Tries so far, counted when a process claims the row'),
        ),
        migrations.AlterField(
            model_name='submission',
            name='claimed_until',
            field=models.DateTimeField(blank=True, help_text="The claim's lease (see core.claims)", null=True),
        ),
        migrations.AlterField(
            model_name='submission',
            name='due_at',
            field=models.DateTimeField(blank=True, help_text='When the next try is due; empty: nothing is due', null=True),
        ),
    ]
