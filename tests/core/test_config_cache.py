"""Configuration kept in memory per process, and the generation token that tells every process it changed."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadbaton.accounts.models import Role, Team, User
from leadbaton.core.cache import cached, config_scope, generation
from leadbaton.core.models import config_changed
from leadbaton.notify.models import ChatTarget
from leadbaton.notify.queries import chat_targets_for
from leadbaton.routing.queries import team_choose
from leadbaton.routing.services import rules_replace


def test_saving_deleting_and_bulk_writing_configuration_each_start_a_new_generation(db):
    tokens = [generation()]
    team = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin")
    tokens.append(generation())
    Team.objects.filter(pk=team.pk).update(name="Europe")
    tokens.append(generation())
    team.delete()
    tokens.append(generation())
    assert len(set(tokens)) == 4


def test_a_bulk_write_that_matches_no_row_leaves_the_generation_alone(db):
    before = generation()
    assert Team.objects.filter(slug="nowhere").update(name="x") == 0
    assert Team.objects.filter(slug="nowhere").delete()[0] == 0
    assert generation() == before


def test_a_value_is_loaded_once_per_generation(db):
    loads = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert [cached("answer", load) for _ in range(3)] == [1, 1, 1]
    config_changed()
    assert cached("answer", load) == 2


def test_a_change_written_behind_the_orms_back_is_seen_only_with_a_new_generation(db):
    Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", is_default=True)
    assert team_choose({}).team.name == "EMEA"
    with connection.cursor() as cursor:  # as another program might: no new generation
        cursor.execute("UPDATE accounts_team SET name = 'Europe'")
    assert team_choose({}).team.name == "EMEA"  # the process still has it in memory: proof that it is cached
    config_changed()
    assert team_choose({}).team.name == "Europe"


def test_a_scope_reads_the_generation_once_for_all_its_cached_reads(db):
    Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", is_default=True)
    team_choose({})  # warm
    with CaptureQueriesContext(connection) as queries, config_scope():
        for _ in range(5):
            team_choose({})
    assert [query["sql"] for query in queries.captured_queries] == ["SELECT token FROM core_generation WHERE id = 1"]


def test_a_scope_whose_work_reads_nothing_cached_reads_no_generation(db):
    with CaptureQueriesContext(connection) as queries, config_scope():
        Team.objects.count()
    assert not [query for query in queries.captured_queries if "core_generation" in query["sql"]]


def test_work_in_a_scope_that_changes_the_configuration_reads_its_own_change(db):
    team = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", is_default=True)
    with config_scope():
        assert team_choose({}).team.name == "EMEA"
        team.name = "Europe"
        team.save()
        assert team_choose({}).team.name == "Europe"


def test_a_page_read_reads_the_generation_once_however_many_cached_values_it_uses(db):
    from django.test import Client

    from leadbaton.accounts.models import RepProfile, Role, User

    Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", is_default=True)
    rep = User.objects.create_user("lena@lumen.example", "pw", name="Lena", role=Role.REP)
    RepProfile.objects.create(user=rep, team=Team.objects.get(slug="emea"), time_zone="Europe/Berlin", hours={})
    client = Client()
    client.force_login(rep)
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200  # the inbox: the service levels, time off and routing, all cached
    assert len([query for query in queries.captured_queries if "core_generation" in query["sql"]]) == 1


def _statements(queries) -> list[str]:
    return [query["sql"] for query in queries.captured_queries if "SAVEPOINT" not in query["sql"]]


def test_every_configuration_write_takes_the_generation_row_first(db, on_postgres):
    """One lock order for every configuration writer, so two of them at once queue instead of deadlocking."""
    team = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin")
    with CaptureQueriesContext(connection) as saved:
        team.name = "Europe"
        team.save()
    with CaptureQueriesContext(connection) as updated:
        Team.objects.filter(pk=team.pk).update(name="EMEA")
    with CaptureQueriesContext(connection) as replaced:
        rules_replace(rules=[{"name": "All", "team": "emea"}])
    assert "core_generation" in _statements(saved)[0]
    assert _statements(saved)[0].startswith("UPDATE")
    if on_postgres:  # SQLite's write transaction already holds the whole database
        for queries in (updated, replaced):
            assert _statements(queries)[0].startswith('SELECT "core_generation"."id"'), _statements(queries)[0]
            assert _statements(queries)[0].endswith("FOR UPDATE")


def test_a_delete_cascading_from_another_row_starts_a_new_generation(db):
    rep = User.objects.create_user("lena@lumen.example", "pw", name="Lena", role=Role.REP)
    ChatTarget.objects.create(rep=rep, url="json://localhost/hook")
    assert len(chat_targets_for(team_id=None, rep_id=rep.pk)) == 1  # in memory now
    before = generation()
    rep.delete()  # users are not configuration, but their chat targets go with them
    assert generation() != before
    assert chat_targets_for(team_id=None, rep_id=rep.pk) == []
