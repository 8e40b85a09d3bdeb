"""The `leadbaton` command: LeadBaton's commands, and the few of Django's that operators need.

Django's developer commands (startapp, makemigrations, …) are not offered, and
neither is any that deletes data without asking (flush, …): developers run those
with `python -m django` and DJANGO_SETTINGS_MODULE=leadbaton.settings.
"""

from __future__ import annotations

import difflib
import os
import sys

# Shown first by `leadbaton help`, in this order. Each one line; the command's --help says the rest.
LEADBATON_COMMANDS = {
    "serve": "apply migrations, then serve LeadBaton with a worker beside it",
    "worker": "run a worker: sends notifications, fires service-level steps, retries submissions, hands out team queues",
    "demo": "load the demo organisation and print its logins and keys (never on a real installation)",
    "config": "apply the organisation file (org.yaml): sources, teams, people, routing, SLA",
    "createadmin": "create an admin who can sign in",
    "sources": "sources and their API keys: add, key, revoke, list",
    "submissions": "everything sources sent: list, show, replay",
    "tokens": "personal API tokens: create, revoke, list",
    "leads": "move a lead to another rep or team queue by hand",
    "reps": "pause a rep (no new leads, with a reason) or resume them",
    "routing": "why a lead went where it did: explain",
    "sla": "service levels: status by team, explain a lead's clocks, the policies",
    "report": "reports in the terminal: a team's week reconciled like a ledger (weekly), any period (reconciliation)",
    "webhooks": "signed webhooks and their delivery log",
    "signins": "failed sign-ins: list, unlock an account or an address",
}

# Django's commands an operator may need, listed apart.
MAINTENANCE_COMMANDS = {
    "migrate": "create or upgrade the database (serve does it at every start)",
    "showmigrations": "which migrations the database has",
    "check": "check the settings; --deploy for a server others reach",
    "changepassword": "set a person's password",
    "shell": "a Python shell with LeadBaton loaded",
    "dbshell": "the database's own shell (sqlite3 or psql)",
    "clearsessions": "delete expired sign-in sessions",
    "sendtestemail": "send a test email to check the email settings",
}

# Django's commands that are refused, with the reason; any other of Django's is a developer command.
REFUSED = {
    "flush": "it deletes every lead, person and setting without keeping a copy",
    "sqlflush": "it prints the SQL that deletes every lead, person and setting",
    "remove_stale_contenttypes": "it deletes rows with --no-input and no copy",
    "loaddata": "it overwrites rows in place",
    "dumpdata": "it writes every secret and personal detail to a file",
    "diffsettings": "it prints the secret key and the email password",
    "createsuperuser": "use `leadbaton createadmin EMAIL`, which also gives the admin role",
    "runserver": "it is Django's development server; use `leadbaton serve`",
    "testserver": "it is Django's development server; use `leadbaton serve`",
}

# Commands that start a LeadBaton: they may create the configured data directory.
CREATE_DATA_DIR = {"serve", "demo", "migrate"}
# Commands that read no database.
NO_DATABASE = {"check", "sendtestemail"}

OFFERED = {**LEADBATON_COMMANDS, **MAINTENANCE_COMMANDS}


def help_text() -> str:
    width = max(len(name) for name in OFFERED) + 2
    lines = [
        "usage: leadbaton COMMAND [ARGUMENTS]",
        "",
        "LeadBaton makes sure no lead is dropped between marketing and sales.",
        "Settings come from the environment and .env (docs/configuration.md).",
        "",
        "Commands:",
        *(f"  {name:<{width}}{text}" for name, text in LEADBATON_COMMANDS.items()),
        "",
        "Maintenance:",
        *(f"  {name:<{width}}{text}" for name, text in MAINTENANCE_COMMANDS.items()),
        "",
        "`leadbaton COMMAND --help` (or `leadbaton help COMMAND`) explains one.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbaton.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"} or args == ["help"]:
        print(help_text())
        return
    if args[0] == "help":
        args = [args[1], "--help"]
    if args[0] == "--version":
        from importlib.metadata import version

        print(f"leadbaton {version('leadbaton')} (Django {version('django')})")
        return
    command = args[0]
    if command not in OFFERED:
        sys.exit(refusal(command))
    asking_for_help = bool({"-h", "--help"} & set(args))
    if command in CREATE_DATA_DIR and not asking_for_help:
        from leadbaton.core.datadir import data_dir_prepare

        path, created = data_dir_prepare()
        if created:
            print(f"leadbaton: created the data directory {path} (readable only by you)", file=sys.stderr)
    elif command not in NO_DATABASE and not asking_for_help:
        _require_database()
    if command == "migrate" and not asking_for_help:
        _confirm_undoing_migrations(args[1:])
    from django.core.management import execute_from_command_line

    execute_from_command_line(["leadbaton", *args])


def refusal(command: str) -> str:
    """What `leadbaton` says instead of running a command it does not offer."""
    if command in REFUSED:
        return f"leadbaton: `{command}` is not offered: {REFUSED[command]}."
    if command.startswith("-"):
        return f"leadbaton: {command} is not an option of its own; try `leadbaton help`."
    import django

    django.setup()
    from django.core.management import get_commands

    if command in get_commands():
        return (
            f"leadbaton: `{command}` is one of Django's developer commands, not offered here. "
            f"Developers run it as `DJANGO_SETTINGS_MODULE=leadbaton.settings python -m django {command}`."
        )
    close = difflib.get_close_matches(command, list(OFFERED), n=1)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    return f"leadbaton: no command `{command}`.{hint} `leadbaton help` lists them."


# Options of `migrate` that take a value, so that value is not read as the app or the migration.
_MIGRATE_VALUED = {"--database", "--settings", "--pythonpath", "-v", "--verbosity"}


def _confirm_undoing_migrations(args: list[str]) -> None:
    """`migrate APP TARGET` that goes backwards drops tables and columns: only with a typed confirmation."""
    positional: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _MIGRATE_VALUED:
            skip = True
        elif not arg.startswith("-"):
            positional.append(arg)
    if len(positional) < 2:
        return
    import django

    django.setup()
    from django.db import connection
    from django.db.migrations.exceptions import AmbiguityError
    from django.db.migrations.executor import MigrationExecutor

    app_label, name = positional[:2]
    executor = MigrationExecutor(connection)
    target: tuple[str, str | None]
    if name == "zero":
        target = (app_label, None)
    else:
        try:
            target = (app_label, executor.loader.get_migration_by_prefix(app_label, name).name)
        except (AmbiguityError, KeyError):
            return  # migrate itself says what is wrong
    undone = [migration for migration, backwards in executor.migration_plan([target]) if backwards]
    if not undone:
        return
    print(f"leadbaton: this undoes {len(undone)} migration(s), deleting the data they hold:", file=sys.stderr)
    for migration in undone:
        print(f"  {migration.app_label}.{migration.name}", file=sys.stderr)
    phrase = f"undo {app_label} {name}"
    if {"--no-input", "--noinput"} & set(args) or not sys.stdin.isatty():
        sys.exit(f"leadbaton: refused without a typed confirmation; run it at a terminal and type `{phrase}`. Back up first.")
    if input(f"Type `{phrase}` to go on (anything else stops): ").strip() != phrase:
        sys.exit("leadbaton: stopped; nothing was changed.")


def _require_database() -> None:
    """Stop with advice, creating nothing, unless LeadBaton's database is where the settings say."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    where = str(settings.DATABASES["default"]["NAME"])
    on_sqlite = connection.vendor == "sqlite"
    if (not on_sqlite or os.path.isfile(where)) and MigrationRecorder(connection).has_table():
        return
    sys.exit(
        f"leadbaton: the database {where} is not set up.\n"
        f"Run this where LeadBaton runs (LEADBATON_DATA_DIR is {settings.DATA_DIR}), "
        "set LEADBATON_DATA_DIR or DATABASE_URL to LeadBaton's, or run `leadbaton migrate` to start a new one."
    )
