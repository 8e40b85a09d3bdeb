from django.db import migrations
from django.db.models import OuterRef, Subquery


def utm_campaigns(apps, schema_editor):
    """A lead whose first inquiry named no campaign but carried a utm_campaign came with that campaign."""
    Lead, Inquiry = apps.get_model("leads", "Lead"), apps.get_model("leads", "Inquiry")
    first = Inquiry.objects.filter(lead=OuterRef("pk")).order_by("received_at", "id")
    untracked = Lead.objects.filter(original_campaign="").annotate(first_campaign=Subquery(first.values("campaign")[:1]),
                                                                   first_utm=Subquery(first.values("utm_campaign")[:1]))
    untracked.filter(first_campaign="").exclude(first_utm="").update(original_campaign=Subquery(first.values("utm_campaign")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0012_report_indexes'),
    ]

    operations = [
        migrations.RunPython(utm_campaigns, migrations.RunPython.noop),
    ]
