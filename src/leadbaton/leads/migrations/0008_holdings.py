"""Holdings: each rep's holding of each lead, the reconciliation's summary row; written for the existing ledger by
replaying it (leads.holdings), 500 leads at a time."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from leadbaton.leads.holdings import replay

BATCH = 500


def holdings_write(apps, schema_editor):
    Handoff, Activity, Holding = (apps.get_model("leads", name) for name in ("Handoff", "Activity", "Holding"))
    lead_ids = list(Handoff.objects.filter(to_kind="rep").values_list("lead_id", flat=True).distinct().order_by("lead_id"))
    for first in range(0, len(lead_ids), BATCH):
        batch = lead_ids[first:first + BATCH]
        handoffs, activities = {}, {}
        for lead_id, *rest in Handoff.objects.filter(lead_id__in=batch).values_list(
                "lead_id", "at", "id", "from_kind", "from_rep_id", "to_kind", "to_team_id", "to_rep_id", "reason"):
            handoffs.setdefault(lead_id, []).append(rest)
        for lead_id, *rest in Activity.objects.filter(lead_id__in=batch, kind__in=["call", "email", "sms", "meeting", "outcome"]).values_list(
                "lead_id", "at", "id", "kind", "detail"):
            activities.setdefault(lead_id, []).append(rest)
        rows = []
        for lead_id in batch:
            spans, _ = replay(lead_id, handoffs.get(lead_id, []), activities.get(lead_id, []))
            rows += [Holding(lead_id=span.lead_id, rep_id=span.rep_id, team_id=span.team_id, came=span.came, started_at=span.started_at,
                             touched_at=span.touched_at, closed_at=span.closed_at, closed_how=span.closed_how) for span in spans]
        Holding.objects.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_rotation_turn'),
        ('leads', '0007_recycle'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Holding',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('came', models.CharField(choices=[('routing', 'Routing'), ('queue', 'Queue hand-out'), ('assigned', 'Manual assignment'), ('reassigned', 'Reassignment in'), ('sla', 'SLA reassignment')], max_length=12)),
                ('started_at', models.DateTimeField()),
                ('touched_at', models.DateTimeField(blank=True, help_text='When it stopped being untouched (a touch, or came in progress)', null=True)),
                ('closed_at', models.DateTimeField(blank=True, null=True)),
                ('closed_how', models.CharField(blank=True, choices=[('', 'Open'), ('purchased', 'Purchased'), ('not_interested', 'Not interested'), ('rejected', 'Rejected'), ('away', 'Reassigned away')], default='', max_length=16)),
                ('lead', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='holdings', to='leads.lead')),
                ('rep', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('team', models.ForeignKey(blank=True, db_index=False, help_text='The team the handoff named: the holding counts for it', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.team')),
            ],
            options={
                'indexes': [models.Index(condition=models.Q(('closed_at__isnull', True)), fields=['team', 'started_at'], name='holding_open'), models.Index(condition=models.Q(('closed_at__isnull', False)), fields=['team', 'closed_at'], name='holding_team_closed'), models.Index(condition=models.Q(('closed_at__isnull', False)), fields=['closed_at'], name='holding_closed'), models.Index(fields=['rep', 'closed_at'], name='holding_rep_closed')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('closed_at__isnull', True)), fields=('lead',), name='one_open_holding_per_lead')],
            },
        ),
        migrations.RunPython(holdings_write, migrations.RunPython.noop),
    ]
