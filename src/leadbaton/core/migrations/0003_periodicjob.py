# Periodic jobs (handing out team queues, pruning) are due rows like every other timed work.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_holder'),
    ]

    operations = [
        migrations.CreateModel(
            name='PeriodicJob',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('due_at', models.DateTimeField(blank=True, help_text='When the next try is due; empty: nothing is due', null=True)),
                ('attempts', models.PositiveSmallIntegerField(default=0, help_text='Tries so far, counted when a process claims the row')),
                ('claimed_until', models.DateTimeField(blank=True, help_text="The claim's lease (see core.claims)", null=True)),
                ('last_error', models.TextField(blank=True)),
                ('name', models.CharField(max_length=100, unique=True)),
                ('status', models.CharField(choices=[('scheduled', 'Scheduled')], default='scheduled', max_length=10)),
                ('last_run_at', models.DateTimeField(blank=True, null=True)),
                ('claimed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='core.holder')),
            ],
            options={
                'indexes': [models.Index(fields=['due_at'], name='periodic_job_due')],
            },
        ),
    ]
