"""The ``labelhub`` command: the client's main calls from a shell or a scheduler.

The server and token come from ``--url``/``--token``, else ``LABELHUB_URL``/``LABELHUB_TOKEN``,
else what ``labelhub login`` saved (``~/.config/labelhub/config.json``, readable by you only).
``--json`` prints machine-readable JSON; otherwise tables for people. Errors exit with status 1
and the server's message, field by field.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from labelhub_client.client import Client, Project
from labelhub_client.errors import ImportFailed, LabelHubError


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "labelhub" / "config.json"


def saved_config() -> dict[str, str]:
    try:
        return json.loads(config_path().read_text())
    except (OSError, ValueError):
        return {}


class Context:
    def __init__(self, url: str | None, token: str | None, as_json: bool) -> None:
        saved = saved_config()
        self.url = url or os.environ.get("LABELHUB_URL") or saved.get("url", "")
        self.token = token or os.environ.get("LABELHUB_TOKEN") or saved.get("token", "")
        self.as_json = as_json
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            if not self.url or not self.token:
                raise click.UsageError(
                    "No server: run `labelhub login`, or set LABELHUB_URL and LABELHUB_TOKEN."
                )
            self._client = Client(self.url, self.token)
        return self._client

    def project(self, project_id: int) -> Project:
        return self.client.project(project_id)

    def show(
        self, value: Any, *, columns: Sequence[str] = (), human: Callable[[], None] | None = None
    ) -> None:
        if self.as_json:
            click.echo(json.dumps(value, default=str, indent=2))
        elif human is not None:
            human()
        else:
            table(value if isinstance(value, list) else [value], columns)


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    columns = list(columns) or (list(rows[0]) if rows else [])
    cells = [[("" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def project_row(project: Project) -> dict[str, Any]:
    info = project.info
    return {
        "id": info.id,
        "name": info.name,
        "kind": info.kind,
        "organization": info.organization,
        "role": info.role,
        "archived_at": info.archived_at.isoformat() if info.archived_at else None,
    }


class Group(click.Group):
    """Turns the client's errors into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImportFailed as error:
            click.echo(f"Import refused: {error.message}", err=True)
            for problem in error.problems[:50]:
                click.echo(f"  {problem}", err=True)
            ctx.exit(1)
        except LabelHubError as error:
            click.echo(f"Error: {error.message}", err=True)
            ctx.exit(1)


@click.group(cls=Group)
@click.option("--url", help="The LabelHub server, e.g. https://labels.example.com.")
@click.option("--token", help="An API token (else LABELHUB_TOKEN, else `labelhub login`).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def main(ctx: click.Context, url: str | None, token: str | None, as_json: bool) -> None:
    """LabelHub from the command line: projects, imports, results, exports."""
    ctx.obj = Context(url, token, as_json)


@main.command()
@click.option("--username", prompt=True)
@click.option("--password", prompt=True, hide_input=True)
@click.pass_obj
def login(obj: Context, username: str, password: str) -> None:
    """Get a token with your username and password and save it for the next commands."""
    if not obj.url:
        raise click.UsageError("Give the server with --url (or LABELHUB_URL).")
    token = Client.token_for(obj.url, username, password)
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps({"url": obj.url, "token": token}))
    obj.show(
        {"url": obj.url, "saved_to": str(path)},
        human=lambda: click.echo(f"Logged in; the token is saved in {path}."),
    )


@main.group()
def projects() -> None:
    """List, create and show projects."""


@projects.command("list")
@click.pass_obj
def projects_list(obj: Context) -> None:
    """Your projects."""
    rows = [project_row(p) for p in obj.client.projects()]
    obj.show(rows, columns=["id", "name", "kind", "organization", "role"])


@projects.command("create")
@click.argument("name")
@click.option("--kind", required=True, help="bbox, ranking, transcription, conversation, …")
@click.option("--schema", type=click.Path(exists=True, dir_okay=False), help="A JSON file.")
@click.option("--quality", help="Quality bars as JSON, e.g. '{\"overlap\": 3}'.")
@click.option("--organization", help="The organization's slug (if you admin several).")
@click.option("--exist-ok", is_flag=True, help="Return your project of that name if it exists.")
@click.pass_obj
def projects_create(
    obj: Context,
    name: str,
    kind: str,
    schema: str | None,
    quality: str | None,
    organization: str | None,
    exist_ok: bool,
) -> None:
    """Create a project (you become its manager)."""
    project = obj.client.create_project(
        name,
        kind,
        schema=json.loads(Path(schema).read_text()) if schema else None,
        quality=json.loads(quality) if quality else None,
        organization=organization,
        exist_ok=exist_ok,
    )
    obj.show(project_row(project), columns=["id", "name", "kind", "organization"])


@projects.command("show")
@click.argument("project_id", type=int)
@click.pass_obj
def projects_show(obj: Context, project_id: int) -> None:
    """One project's settings (and figures, for managers)."""
    project = obj.project(project_id)
    info = {
        **project.info.extra,
        **project_row(project),
        "schema": project.info.schema,
        "quality": project.info.quality,
    }

    def human() -> None:
        for key, value in info.items():
            shown = json.dumps(value) if isinstance(value, (dict, list)) else value
            click.echo(f"{key:>14}: {shown}")

    obj.show(info, human=human)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--project", "project_id", type=int, required=True)
@click.option("--batch-size", default=5000, show_default=True)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the end.")
@click.pass_obj
def import_file(obj: Context, file: str, project_id: int, batch_size: int, wait: bool) -> None:
    """Import tasks from FILE (JSON Lines or JSON in batches; CSV, zip, media as one upload).
    Safe to run again: tasks are matched by external_id and updated, never duplicated."""
    project = obj.project(project_id)
    job = project.import_tasks(file, batch_size=batch_size, progress=not obj.as_json)
    if wait:
        job.wait(progress=not obj.as_json)
    summary = {
        "imports": job.ids,
        "total": job.total,
        "created": job.created,
        "updated": job.updated,
        "finished": job.finished,
    }
    obj.show(summary, columns=["imports", "total", "created", "updated", "finished"])


@main.command("wait")
@click.argument("import_ids", type=int, nargs=-1, required=True)
@click.option("--timeout", type=float, help="Give up after this many seconds (exit status 2).")
@click.pass_obj
def wait_imports(obj: Context, import_ids: tuple[int, ...], timeout: float | None) -> None:
    """Wait for imports (their ids, as `labelhub import` printed them) to finish."""
    job = obj.client.import_job(*import_ids)
    try:
        job.wait(progress=not obj.as_json, timeout=timeout)
    except TimeoutError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    summary = {
        "imports": job.ids,
        "total": job.total,
        "created": job.created,
        "updated": job.updated,
    }
    obj.show(summary, columns=["imports", "total", "created", "updated"])


@main.command("export")
@click.option("--project", "project_id", type=int, required=True)
@click.option("--format", "format_name", required=True, help="coco, yolo, jsonl, csv, dpo, …")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("--all-tasks", is_flag=True, help="Also tasks not yet accepted.")
@click.option("--include-gold", is_flag=True)
@click.pass_obj
def export(
    obj: Context,
    project_id: int,
    format_name: str,
    output: str,
    all_tasks: bool,
    include_gold: bool,
) -> None:
    """Export the dataset to a file; run it again after a broken download to resume it."""
    download = obj.project(project_id).export(
        format_name,
        output,
        progress=not obj.as_json,
        accepted_only=not all_tasks,
        include_gold=include_gold,
    )
    job = download.job
    summary = {
        "export": job.id if job else None,
        "path": str(download.path),
        "bytes": download.path.stat().st_size,
        "items": job.total if job else None,
    }
    obj.show(summary, columns=["export", "path", "bytes", "items"])


@main.command("results")
@click.option("--project", "project_id", type=int, required=True)
@click.option("--since", help="The cursor printed last time: only results accepted after it.")
@click.option("--fields", help="Comma-separated: task,external_id,data,result,accepted_at.")
@click.pass_obj
def results(obj: Context, project_id: int, since: str | None, fields: str | None) -> None:
    """Accepted results since a cursor; prints the new cursor to keep for next time."""
    feed = obj.project(project_id).results(
        since=since, fields=fields.split(",") if fields else None
    )
    if obj.as_json:
        items = [{k: v for k, v in vars(r).items() if k != "extra" and v is not None} for r in feed]
        click.echo(json.dumps({"results": items, "cursor": feed.cursor}, default=str, indent=2))
        return
    rows = [
        {"task": r.task, "external_id": r.external_id, "accepted_at": r.accepted_at} for r in feed
    ]
    table(rows, ["task", "external_id", "accepted_at"])
    click.echo(f"cursor: {feed.cursor or ''}")


@main.command("invite")
@click.argument("emails", nargs=-1, required=True)
@click.option("--project", "project_id", type=int, help="Invite to this project …")
@click.option("--organization", help="… or to this organization (its slug).")
@click.option("--role", help="contributor, reviewer, manager (project); member, admin.")
@click.pass_obj
def invite(
    obj: Context,
    emails: tuple[str, ...],
    project_id: int | None,
    organization: str | None,
    role: str | None,
) -> None:
    """Invite people by email (one single-use link each)."""
    if project_id is not None:
        sent = obj.project(project_id).invite(emails, role=role or "contributor")
    elif organization:
        sent = obj.client.invite(organization, emails, role=role or "member")
    else:
        raise click.UsageError("Say --project ID or --organization SLUG.")
    obj.show(sent, columns=["id", "email", "role", "state", "url"])


if __name__ == "__main__":
    main()
