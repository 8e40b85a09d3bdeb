"""Configuration kept in memory per process, and the generation token that tells every process it changed."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadbaton.accounts.models import Team
from leadbaton.core.cache import cached, config_scope, generation
from leadbaton.core.models import config_changed
from leadbaton.routing.queries import team_choose


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
