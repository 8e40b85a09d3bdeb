# A submission keeps what became of it in the product's words (`outcome`); `http_status` stays
# the status its source was answered with, taken from the outcome (decision 0021).

from django.db import migrations, models

# Every status the intake has answered with, and the outcome it stood for.
OUTCOME_OF_STATUS = {
    201: "created", 202: "pending", 400: "malformed", 409: "key_reused", 413: "too_large", 422: "invalid", 429: "rate_limited",
}


def outcomes_fill(apps, schema_editor):
    Submission = apps.get_model("intake", "Submission")
    for status, outcome in OUTCOME_OF_STATUS.items():
        Submission.objects.filter(http_status=status).update(outcome=outcome)
    # 200: merged into an open lead, or a retry with the same Idempotency-Key (stored without `merged`).
    answered_200 = Submission.objects.filter(http_status=200)
    answered_200.filter(replay_of__isnull=False, merged=False).update(outcome="replayed")
    answered_200.exclude(replay_of__isnull=False, merged=False).update(outcome="merged")


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0004_submission_is_timed_work'),
    ]

    operations = [
        migrations.AddField(
            model_name='submission',
            name='outcome',
            field=models.CharField(blank=True, choices=[('created', 'A new lead'), ('merged', "Merged into the person's open lead"), ('replayed', "A retry with the same Idempotency-Key: the first request's lead"), ('pending', 'Kept without a lead yet (processing failed, or the first request with its key is unfinished)'), ('malformed', 'Refused: the body is not JSON'), ('invalid', 'Refused: a request that cannot be used as sent'), ('unreachable', 'Refused: nobody could be contacted'), ('too_large', 'Refused: the body is too large'), ('rate_limited', 'Refused: the key sent too many requests'), ('key_reused', 'Refused: the Idempotency-Key came with another body')], default='', max_length=12),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='submission',
            name='http_status',
            field=models.PositiveSmallIntegerField(blank=True, help_text='The status the source was answered with', null=True),
        ),
        migrations.RunPython(outcomes_fill, migrations.RunPython.noop),
    ]
