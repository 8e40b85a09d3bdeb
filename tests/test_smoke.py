from leadbaton.leads.models import Lead


def test_it_creates_a_lead_from_an_email(intake, org):
    answer = intake.post({"email": "dana@northwind.example", "first_name": "Dana"})
    assert answer.status_code == 201, answer.json()
    assert Lead.objects.get(pk=answer.json()["id"]).first_name == "Dana"
