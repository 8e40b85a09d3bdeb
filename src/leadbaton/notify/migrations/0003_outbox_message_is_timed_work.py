# An outbox message is timed work (core.models.DueRow): the same due, claim and retry fields as every due row.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notify', '0002_claims_name_their_holder'),
    ]

    operations = [
        migrations.AlterField(
            model_name='outboxmessage',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0, help_text='Tries so far, counted when a process claims the row'),
        ),
        migrations.AlterField(
            model_name='outboxmessage',
            name='claimed_until',
            field=models.DateTimeField(blank=True, help_text="The claim's lease (see core.claims)", null=True),
        ),
        migrations.AlterField(
            model_name='outboxmessage',
            name='due_at',
            field=models.DateTimeField(blank=True, help_text='When the next try is due; empty: nothing is due', null=True),
        ),
    ]
