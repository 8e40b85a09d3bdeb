"""A lead has one writer: leads/services.py. Every other module asks it to change a lead's fields."""

from __future__ import annotations

import ast
from pathlib import Path

from leadbaton.leads.models import Lead

SRC = Path(__file__).resolve().parents[2] / "src" / "leadbaton"
WRITER = SRC / "leads" / "services.py"
# api/bench.py is the ORM-only floor the intake is measured against (bench/intake.py): it writes the rows bare on purpose.
EXEMPT = {SRC / "api" / "bench.py"}
MANAGER_WRITES = {"update", "create", "bulk_create", "bulk_update", "get_or_create", "update_or_create", "delete"}
# The lead's columns as code assigns them, a foreign key by its id (`owner_rep_id`). By its name
# (`lead.owner_rep = rep`) it only puts a row already read beside the id a service set, so answers
# can name the owner without another query: not counted as a write.
COLUMNS = {field.attname for field in Lead._meta.concrete_fields} - {"id"}


def _is_lead(node: ast.expr) -> bool:
    """A name that holds a lead: `lead`, `self.lead`, `original_lead`."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name == "lead" or name.endswith("_lead")


def _on_lead_manager(node: ast.expr) -> bool:
    """Whether a call chain starts at `Lead.objects`."""
    while isinstance(node, (ast.Attribute, ast.Call)):
        if isinstance(node, ast.Attribute) and node.attr == "objects" and isinstance(node.value, ast.Name) and node.value.id == "Lead":
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        found: list[ast.expr] = []
        for target in node.targets:
            found += list(target.elts) if isinstance(target, ast.Tuple) else [target]
        return found
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target]
    return []


def lead_writes(path: Path) -> list[str]:
    """Where the module saves a lead, writes through Lead.objects, or sets one of a lead's columns."""
    writes = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "save" and _is_lead(node.func.value):
                writes.append(f"{where}: saves a lead")
            elif node.func.attr in MANAGER_WRITES and _on_lead_manager(node.func.value):
                writes.append(f"{where}: Lead.objects...{node.func.attr}()")
        for target in _targets(node):
            if isinstance(target, ast.Attribute) and _is_lead(target.value) and target.attr in COLUMNS:
                writes.append(f"{where}: sets lead.{target.attr}")
    return writes


def test_only_leads_services_writes_a_leads_fields():
    modules = [path for path in SRC.rglob("*.py") if "migrations" not in path.parts and path != WRITER and path not in EXEMPT]
    assert [write for path in modules for write in lead_writes(path)] == []


def test_the_check_sees_the_writes_it_forbids():
    found = lead_writes(WRITER)
    assert any("saves a lead" in write for write in found)
    assert any("Lead.objects...create()" in write for write in found)
    assert any("sets lead.stage" in write for write in found)
    assert any("Lead.objects...create()" in write for write in lead_writes(SRC / "api" / "bench.py"))
