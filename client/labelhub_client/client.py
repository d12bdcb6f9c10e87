"""``Client`` and the objects it hands out: projects, import jobs, the results feed, exports and
the labeling queue. Every listing is a lazy iterator over cursor pages: nothing is fetched until
you iterate, and a page is fetched only when the one before is used up."""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from labelhub_client import progress as progress_bars
from labelhub_client._http import RETRY_STATUSES, Http
from labelhub_client.errors import (
    ConnectionFailed,
    ImportFailed,
    ImportProblem,
    JobFailed,
    LabelHubError,
    NotFound,
    RateLimited,
    ServerError,
)
from labelhub_client.models import (
    Assignment,
    ExportStatus,
    ImportStatus,
    Member,
    ProjectInfo,
    QueueTask,
    Result,
    Submission,
    Task,
)

DEFAULT_BATCH = 5000
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
ROW = re.compile(r"^item (\d+)(?:, (.*?))?: (.*)$", re.DOTALL)


class Client:
    """A connection to one LabelHub server, as one user (their API token).

    ``url`` and ``token`` default to ``LABELHUB_URL`` and ``LABELHUB_TOKEN``. Options:
    ``timeout`` (seconds per request), ``max_retries``, ``backoff`` (first wait, doubled each
    retry). Use it as a context manager, or call :meth:`close`, to release its connections."""

    def __init__(self, url: str | None = None, token: str | None = None, **options: Any) -> None:
        url = url or os.environ.get("LABELHUB_URL", "")
        token = token or os.environ.get("LABELHUB_TOKEN", "")
        if not url or not token:
            raise ValueError("Give url and token, or set LABELHUB_URL and LABELHUB_TOKEN.")
        self.url = url.rstrip("/")
        self.http = Http(self.url, token, **options)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    @staticmethod
    def token_for(url: str, username: str, password: str, *, timeout: float = 30.0) -> str:
        """An API token for this person (``POST /api/v1/auth/token/``)."""
        response = httpx.post(
            f"{url.rstrip('/')}/api/v1/auth/token/",
            data={"username": username, "password": password},
            timeout=timeout,
        )
        if response.status_code != 200:
            from labelhub_client.errors import error_from_response

            try:
                body = response.json()
            except ValueError:
                body = response.text
            raise error_from_response(response.status_code, body)
        return str(response.json()["token"])

    @property
    def api_version(self) -> str | None:
        """The server's API version (``X-LabelHub-API-Version``), once a call was made."""
        return self.http.api_version

    # Projects ------------------------------------------------------------------------------

    def projects(self, *, page_size: int = 100) -> Iterator[Project]:
        """The caller's projects in id order (lazy, cursor pages)."""
        for data in self.pages("/api/v1/projects/", {"cursor": "", "page_size": page_size}):
            yield Project(self, ProjectInfo.from_json(data))

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The items of a cursor listing, page after page as they are used up."""
        while True:
            page = self.http.get(path, params=params)
            yield from page["results"]
            if not page.get("cursor"):
                return
            params = {**params, "cursor": page["cursor"]}

    def project(self, project_id: int) -> Project:
        """One project by id; :class:`NotFound` if it does not exist or is not the caller's."""
        return Project(
            self, ProjectInfo.from_json(self.http.get(f"/api/v1/projects/{project_id}/"))
        )

    def project_by_name(self, name: str, *, organization: str | None = None) -> Project | None:
        for project in self.projects():
            if project.name == name and organization in (None, project.organization):
                return project
        return None

    def create_project(
        self,
        name: str,
        kind: str,
        *,
        schema: dict[str, Any] | None = None,
        quality: dict[str, Any] | None = None,
        instructions: str = "",
        organization: str | None = None,
        exist_ok: bool = False,
    ) -> Project:
        """Create a project (the caller becomes its manager). With ``exist_ok``, a project of
        that name the caller already has is returned instead (its settings are not changed): the
        server decides (``if_exists=return``, API 1.2), so two runs at once get one project, and
        a retried request cannot make a second one."""
        body: dict[str, Any] = {"name": name, "kind": kind, "instructions": instructions}
        if exist_ok:
            body["if_exists"] = "return"
        if schema is not None:
            body["schema"] = schema
        if quality is not None:
            body["quality"] = quality
        if organization is not None:
            body["organization"] = organization
        data = self.http.post("/api/v1/projects/", body, idempotent=exist_ok).json()
        return Project(self, ProjectInfo.from_json(data))

    def invite(
        self,
        organization: str,
        emails: Sequence[str],
        *,
        role: str = "member",
        project: int | None = None,
    ) -> list[dict[str, Any]]:
        """Invite people by email: ``role`` on ``project``, or ``member``/``admin`` of the
        organization. Returns the invitations (each with its ``url``)."""
        body: dict[str, Any] = {"emails": list(emails), "role": role}
        if project is not None:
            body["project"] = project
        response = self.http.post(f"/api/v1/organizations/{organization}/invitations/", body)
        return list(response.json())

    # Jobs ----------------------------------------------------------------------------------

    def import_status(self, import_id: int) -> ImportStatus:
        return ImportStatus.from_json(self.http.get(f"/api/v1/imports/{import_id}/"))

    def import_job(self, *import_ids: int) -> ImportJob:
        """An import made earlier (by its server ids, e.g. from ``labelhub import``), to wait."""
        return ImportJob(self, [Batch(offset=0, import_id=i) for i in import_ids])

    def export_status(self, export_id: int) -> ExportStatus:
        return ExportStatus.from_json(self.http.get(f"/api/v1/exports/{export_id}/"))


class Project:
    """One project; its settings are in :attr:`info` (also readable as attributes)."""

    def __init__(self, client: Client, info: ProjectInfo) -> None:
        self.client = client
        self.info = info

    def __getattr__(self, name: str) -> Any:
        if name in ("client", "info"):
            raise AttributeError(name)
        return getattr(self.info, name)

    def __repr__(self) -> str:
        return f"<Project {self.info.id} {self.info.name!r} ({self.info.kind})>"

    @property
    def path(self) -> str:
        return f"/api/v1/projects/{self.info.id}/"

    def refresh(self) -> Project:
        self.info = ProjectInfo.from_json(self.client.http.get(self.path))
        return self

    def update(
        self,
        *,
        name: str | None = None,
        schema: dict[str, Any] | None = None,
        quality: dict[str, Any] | None = None,
        instructions: str | None = None,
    ) -> Project:
        """Change settings: ``quality`` may be partial (bars left out keep their values).
        Invalid values raise :class:`ValidationFailed` with ``fields`` by path."""
        body = {
            key: value
            for key, value in (
                ("name", name),
                ("schema", schema),
                ("quality", quality),
                ("instructions", instructions),
            )
            if value is not None
        }
        data = self.client.http.request("PATCH", self.path, json=body, idempotent=True).json()
        self.info = ProjectInfo.from_json(data)
        return self

    def add_member(self, username: str, role: str) -> Member:
        """Give a member of the organization a role here: contributor, reviewer or manager."""
        data = self.client.http.post(
            f"{self.path}members/", {"username": username, "role": role}
        ).json()
        return Member.from_json(data)

    def members(self, *, page_size: int = 100) -> Iterator[Member]:
        """The project's members, one per role (a manager who labels is two), in the order they
        were added (lazy, cursor pages; managers)."""
        params = {"cursor": "", "page_size": page_size}
        for data in self.client.pages(f"{self.path}members/", params):
            yield Member.from_json(data)

    def set_member_role(self, member: Member | int, role: str) -> Member:
        """Change the role of one member row (:meth:`members` gives them)."""
        member_id = member.id if isinstance(member, Member) else member
        data = self.client.http.request(
            "PATCH", f"{self.path}members/{member_id}/", json={"role": role}, idempotent=True
        ).json()
        return Member.from_json(data)

    def remove_member(self, member: Member | int) -> None:
        """Take one role away from a member (the project keeps at least one manager)."""
        member_id = member.id if isinstance(member, Member) else member
        self.client.http.request("DELETE", f"{self.path}members/{member_id}/")

    def invite(self, emails: Sequence[str], *, role: str = "contributor") -> list[dict[str, Any]]:
        """Invite people by email to this project with ``role``."""
        return self.client.invite(self.info.organization, emails, role=role, project=self.info.id)

    # Tasks ---------------------------------------------------------------------------------

    def tasks(
        self, *, fields: Sequence[str] | None = None, page_size: int = 1000, **filters: Any
    ) -> Iterator[Task]:
        """Every task in id order (lazy, cursor pages: as fast at the millionth as the first).
        ``fields=["id", "external_id", "status"]`` fetches only those; ``filters`` are the
        listing's (``status="accepted"``, ``external_id=…``, ``gold=True``…)."""
        params: dict[str, Any] = {"cursor": "", "page_size": page_size, **filters}
        if fields:
            params["fields"] = ",".join(fields)
        for item in self.client.pages(f"{self.path}tasks/", params):
            yield Task.from_json(item)

    def task_ids(self, **filters: Any) -> Iterator[int]:
        """Only the ids, as cheaply as the server can list them."""
        for task in self.tasks(fields=["id"], **filters):
            yield task.id

    def import_tasks(
        self,
        source: Iterable[dict[str, Any]] | str | os.PathLike[str],
        *,
        batch_size: int = DEFAULT_BATCH,
        progress: bool = True,
        wait: bool = False,
    ) -> ImportJob:
        """Send tasks in batches: a list, any iterable (a generator: read lazily), or a file.

        Each task is ``{"data": {...}, "external_id": "…", …}`` (docs/api.md). JSON Lines and JSON
        files are read and sent in batches; other files (CSV, zip, images, audio, COCO) are
        uploaded whole as one background import. A task whose ``external_id`` exists is updated,
        never duplicated, so after a crash send the same tasks again. Returns an
        :class:`ImportJob`; ``wait=True`` waits for it (or call :meth:`ImportJob.wait`)."""
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if path.suffix.lower() not in JSON_SUFFIXES:
                job = self._upload(path)
                return job.wait(progress=progress) if wait else job
            items: Iterable[dict[str, Any]] = read_tasks_file(path)
        else:
            items = source
        batches: list[Batch] = []
        offset = 0
        bar = progress_bars.bar(enabled=progress, total=None, desc="sent", unit="task")
        try:
            for chunk in chunked(items, batch_size):
                batches.append(self._send(chunk, offset))
                offset += len(chunk)
                bar.update(len(chunk))
        finally:
            bar.close()
        job = ImportJob(self.client, batches)
        return job.wait(progress=progress) if wait else job

    def _send(self, chunk: list[dict[str, Any]], offset: int) -> Batch:
        # Safe to repeat only if every task names itself: then a repeat updates, not duplicates.
        repeatable = all(isinstance(t, dict) and t.get("external_id") for t in chunk)
        try:
            response = self.client.http.post(f"{self.path}tasks/", chunk, idempotent=repeatable)
        except LabelHubError as error:
            if isinstance(error.body, dict) and "problems" in error.body:
                problems = [problem_from(p, offset) for p in error.body["problems"]]
                raise ImportFailed(
                    str(error.body.get("detail", "")),
                    problems=problems,
                    status=error.status,
                    body=error.body,
                ) from None
            raise
        data = response.json()
        if response.status_code == 202:
            return Batch(offset=offset, import_id=int(data["id"]), size=len(chunk))
        return Batch(
            offset=offset,
            size=len(chunk),
            created=int(data.get("created", 0)),
            updated=int(data.get("updated", 0)),
        )

    def _upload(self, path: Path) -> ImportJob:
        with path.open("rb") as handle:
            response = self.client.http.request(
                "POST", f"{self.path}tasks/", files={"file": (path.name, handle)}, idempotent=False
            )
        return ImportJob(self.client, [Batch(offset=0, import_id=int(response.json()["id"]))])

    # Results -------------------------------------------------------------------------------

    def results(
        self,
        since: str | None = None,
        *,
        fields: Sequence[str] | None = None,
        page_size: int = 1000,
    ) -> ResultFeed:
        """Accepted results after the ``since`` cursor, in the order they were accepted (lazy).
        Store ``feed.cursor`` after the loop and pass it next time to get only what is new."""
        return ResultFeed(self, since=since, fields=fields, page_size=page_size)

    def export(
        self,
        format: str,
        path: str | os.PathLike[str],
        *,
        progress: bool = True,
        poll: float = 0.5,
        **options: Any,
    ) -> ExportDownload:
        """Export the dataset to ``path``: run an export job on the server, wait for it, and
        stream its file to disk. A broken download resumes where it stopped (HTTP ranges), in
        this call or in the next one with the same ``path`` (a ``.part`` file and a small
        ``.labelhub-export.json`` beside it remember where). ``options`` are the export's
        (``accepted_only``, ``include_gold``, ``since``, ``until``, ``style``, ``images``…)."""
        return ExportDownload(self, format, Path(path), options).run(progress=progress, poll=poll)

    # Labeling ------------------------------------------------------------------------------

    def queue(self, *, auto_renew: bool = True) -> Iterator[WorkItem]:
        """The caller's work, one task at a time: ``for item in project.queue():
        item.submit(result)``. Ends when the queue has nothing for the caller. With
        ``auto_renew`` a background timer keeps each lease alive until it is submitted or
        skipped (saving the draft renews it). Leaving an item unfinished ends the loop."""
        last: WorkItem | None = None
        while True:
            response = self.client.http.post(f"{self.path}next/", idempotent=True)
            if response.status_code == 204:
                return
            item = WorkItem(self, response.json(), auto_renew=auto_renew)
            if last is not None and not last.finished and last.assignment.id == item.assignment.id:
                item.stop_renewing()
                return
            last = item
            try:
                yield item
            finally:
                if not item.finished:
                    item.stop_renewing()


@dataclass
class Batch:
    """One request of an import: sent at once (created/updated known) or as a server job."""

    offset: int
    import_id: int | None = None
    size: int = 0
    created: int = 0
    updated: int = 0
    status: ImportStatus | None = None


class ImportJob:
    """An import: the batches sent and the server jobs that write them. :meth:`wait` follows
    them to the end with a progress bar and raises :class:`ImportFailed` with rows and fields."""

    def __init__(self, client: Client, batches: list[Batch]) -> None:
        self.client = client
        self.batches = batches

    def __repr__(self) -> str:
        return f"<ImportJob ids={self.ids} total={self.total}>"

    @property
    def ids(self) -> list[int]:
        """The server's import ids (``GET /api/v1/imports/{id}/``; ``labelhub wait ID…``)."""
        return [b.import_id for b in self.batches if b.import_id is not None]

    @property
    def total(self) -> int:
        return sum(b.status.total if b.status else b.size for b in self.batches)

    @property
    def created(self) -> int:
        return sum(b.status.created if b.status else b.created for b in self.batches)

    @property
    def updated(self) -> int:
        return sum(b.status.updated if b.status else b.updated for b in self.batches)

    @property
    def processed(self) -> int:
        return sum(
            (b.status.processed if b.status else 0) if b.import_id else b.size for b in self.batches
        )

    @property
    def finished(self) -> bool:
        return all(b.import_id is None or (b.status and b.status.finished) for b in self.batches)

    def refresh(self) -> ImportJob:
        for batch in self.batches:
            if batch.import_id is not None and not (batch.status and batch.status.finished):
                batch.status = self.client.import_status(batch.import_id)
        return self

    def wait(
        self, *, progress: bool = True, poll: float = 0.5, timeout: float | None = None
    ) -> ImportJob:
        """Wait until every batch is written; raise :class:`ImportFailed` if any was refused."""
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = progress_bars.bar(enabled=progress, total=self.total or None, desc="import")
        try:
            while True:
                self.refresh()
                bar.total = self.total or None
                bar.update(self.processed - bar.n)
                if self.finished:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    ids = " ".join(map(str, self.ids))
                    raise TimeoutError(
                        f"The import {ids} is still running after {timeout:g} s "
                        f"({self.processed:,} of {self.total:,} tasks done); wait again with "
                        f"job.wait() or `labelhub wait {ids}`."
                    )
                time.sleep(poll)
        finally:
            bar.close()
        failed = [b for b in self.batches if b.status and b.status.status == "failed"]
        if failed:
            problems = [
                problem_from_message(message, batch.offset)
                for batch in failed
                for message in batch.status.errors  # type: ignore[union-attr]
            ]
            raise ImportFailed(
                "The server refused these tasks (nothing of their batch was written).",
                problems=problems,
            )
        return self


class ResultFeed:
    """Accepted results after a cursor, fetched page by page as you iterate.

    :attr:`cursor` moves to the end of each page once the page is used up: store it after the
    loop (stopping inside a page gives that page again next time: at least once, never lost)."""

    def __init__(
        self,
        project: Project,
        *,
        since: str | None,
        fields: Sequence[str] | None,
        page_size: int,
    ) -> None:
        self.project = project
        self.cursor = since
        self.fields = fields
        self.page_size = page_size

    def __iter__(self) -> Iterator[Result]:
        while True:
            params: dict[str, Any] = {"page_size": self.page_size}
            if self.cursor:
                params["since"] = self.cursor
            if self.fields:
                params["fields"] = ",".join(self.fields)
            page = self.project.client.http.get(f"{self.project.path}results/", params=params)
            for item in page["results"]:
                yield Result.from_json(item)
            if page.get("cursor"):
                self.cursor = page["cursor"]
            if not page.get("next"):
                return


class ExportDownload:
    """An export being fetched to a file; :meth:`run` waits for the job and downloads it."""

    def __init__(self, project: Project, format: str, path: Path, options: dict[str, Any]) -> None:
        self.project = project
        self.format = format
        self.path = path
        self.options = options
        self.part = path.with_name(path.name + ".part")
        self.state = path.with_name(path.name + ".labelhub-export.json")
        self.job: ExportStatus | None = None
        self.resumed = 0  # how many times the download went on from where it broke
        self.refused = 0  # how many answers were a 429 or 5xx, asked again after a wait
        self.started_at_byte = 0  # > 0: this run went on from an earlier run's part file

    @property
    def http(self) -> Http:
        return self.project.client.http

    def run(self, *, progress: bool = True, poll: float = 0.5) -> ExportDownload:
        resumed = self._job_to_resume()
        self.job = resumed[0] if resumed else self._start()
        self._save_state(etag=resumed[1] if resumed else None)
        self.job = self._wait(progress=progress, poll=poll)
        self._download(progress=progress)
        self.part.replace(self.path)
        self.state.unlink(missing_ok=True)
        return self

    def _job_to_resume(self) -> tuple[ExportStatus, str | None] | None:
        """The export an earlier run with this path began, and the ETag of the part it got."""
        if not self.state.exists():
            return None
        try:
            saved = json.loads(self.state.read_text())
            if (saved.get("format"), saved.get("project"), saved.get("options", {})) != (
                self.format,
                self.project.id,
                json.loads(json.dumps(self.options, default=str)),
            ):
                return None  # another export was asked for: start it, not the old one
            job = self.project.client.export_status(int(saved["export_id"]))
        except (ValueError, KeyError, NotFound):
            return None
        return None if job.status == "failed" else (job, saved.get("etag"))

    def _start(self) -> ExportStatus:
        self.part.unlink(missing_ok=True)
        body = {"format": self.format, **self.options}
        data = self.http.post(f"{self.project.path}exports/", body).json()
        return ExportStatus.from_json(data)

    def _save_state(self, *, etag: str | None) -> None:
        if self.job is None:
            raise RuntimeError("No export job yet.")
        self.state.write_text(
            json.dumps(
                {
                    "project": self.project.id,
                    "format": self.format,
                    "options": self.options,
                    "export_id": self.job.id,
                    "etag": etag,
                },
                default=str,
            )
        )

    def _wait(self, *, progress: bool, poll: float) -> ExportStatus:
        job = self._current()
        bar = progress_bars.bar(enabled=progress, total=job.total or None, desc="export")
        try:
            while not job.finished:
                time.sleep(poll)
                job = self.project.client.export_status(job.id)
                bar.total = job.total or None
                bar.update(job.processed - bar.n)
        finally:
            bar.close()
        if job.status == "failed":
            self.state.unlink(missing_ok=True)
            raise JobFailed(f"The export {job.id} failed: {job.error}", body=job.extra)
        return job

    def _current(self) -> ExportStatus:
        if self.job is None:
            raise RuntimeError("No export job yet.")
        return self.job

    def _download(self, *, progress: bool) -> None:
        job = self._current()
        url = job.download_url or f"/api/v1/exports/{job.id}/download/"
        saved = json.loads(self.state.read_text()) if self.state.exists() else {}
        etag = saved.get("etag")
        size = job.size
        have = self.part.stat().st_size if self.part.exists() and etag else 0
        self.started_at_byte = have
        bar = progress_bars.bar(
            enabled=progress, total=size, desc="download", unit="B", initial=have
        )
        failures = 0
        if not have:
            self.part.write_bytes(b"")
        try:
            while size is None or have < size:
                headers = {}
                if have:
                    headers = {"Range": f"bytes={have}-", "If-Range": etag or ""}
                try:
                    with self.http.stream(url, headers) as response:
                        if response.status_code == 416:
                            have = 0
                            self.part.unlink(missing_ok=True)
                            continue
                        etag = response.headers.get("ETag", etag)
                        self._save_state(etag=etag)
                        mode = "ab" if response.status_code == 206 else "wb"
                        if mode == "wb":
                            have = 0
                            bar.update(-bar.n)
                        length = response.headers.get("Content-Range", "").rpartition("/")[2]
                        if size is None and length.isdigit():
                            size = int(length)
                        with self.part.open(mode) as out:
                            for chunk in response.iter_bytes():
                                out.write(chunk)
                                have += len(chunk)
                                bar.update(len(chunk))
                        if size is None:
                            size = have
                except (httpx.TransportError, ConnectionFailed, ServerError, RateLimited) as error:
                    # A cut connection, a busy server (429) or a passing 5xx (a restart, a
                    # proxy's 503): go on from the bytes kept, after Retry-After or a backoff.
                    if isinstance(error, ServerError) and error.status not in RETRY_STATUSES:
                        raise
                    failures += 1
                    if failures > self.http.max_retries:
                        raise ConnectionFailed(
                            f"The download broke {failures} times (last: {error}); run the "
                            f"export again with the same path to resume from byte {have}."
                        ) from error
                    if isinstance(error, (ServerError, RateLimited)):
                        self.refused += 1
                    else:
                        self.resumed += 1
                    wait = getattr(error, "retry_after", None)
                    if wait is None:
                        wait = min(self.http.backoff * 2 ** (failures - 1), self.http.max_backoff)
                    time.sleep(wait)
                    have = self.part.stat().st_size if self.part.exists() else 0
        finally:
            bar.close()


class WorkItem:
    """One task handed to the caller by the queue, with its lease."""

    def __init__(self, project: Project, data: dict[str, Any], *, auto_renew: bool) -> None:
        self.project = project
        self.assignment = Assignment.from_json(data["assignment"])
        self.task = QueueTask.from_json(data["task"])
        self.expires_at: datetime = self.assignment.expires_at or datetime.now(UTC)
        self.started = time.monotonic()
        self.finished = False
        self.submission: Submission | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        if auto_renew:
            self._schedule()

    def __repr__(self) -> str:
        return f"<WorkItem task={self.task.id} assignment={self.assignment.id}>"

    @property
    def data(self) -> dict[str, Any]:
        return self.task.data

    @property
    def path(self) -> str:
        return f"/api/v1/assignments/{self.assignment.id}/"

    def _schedule(self) -> None:
        left = (self.expires_at - datetime.now(UTC)).total_seconds()
        self._timer = threading.Timer(max(left / 2, 1.0), self._renew_in_background)
        self._timer.daemon = True
        self._timer.start()

    def _renew_in_background(self) -> None:
        with self._lock:
            if self.finished:
                return
            try:
                self.renew()
            except LabelHubError:
                return  # the submit will say what happened to the lease
        self._schedule()

    def stop_renewing(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def renew(self) -> Assignment:
        """Keep the lease (by saving the current draft again)."""
        return self.draft(self.assignment.draft or {})

    def draft(self, result: dict[str, Any]) -> Assignment:
        """Save work in progress (not validated); it also renews the lease."""
        data = self.project.client.http.request(
            "PUT", f"{self.path}draft/", json={"result": result}
        ).json()
        self.assignment = Assignment.from_json(data)
        if self.assignment.expires_at:
            self.expires_at = self.assignment.expires_at
        return self.assignment

    def submit(self, result: dict[str, Any], *, active_seconds: float | None = None) -> Submission:
        """Submit the answer (validated by the project's kind: :class:`ValidationFailed` with
        ``fields`` like ``result.boxes.0.w``). Safe to repeat: the server answers it once."""
        seconds = time.monotonic() - self.started if active_seconds is None else active_seconds
        with self._lock:
            data = self.project.client.http.post(
                f"{self.path}submit/",
                {"result": result, "active_seconds": round(seconds, 3)},
                idempotent=True,
            ).json()
            self._finish()
        self.submission = Submission.from_json(data)
        return self.submission

    def skip(self, reason: str = "") -> Assignment:
        """Give the task back (``reason``: e.g. ``broken_media``, ``unclear``)."""
        with self._lock:
            data = self.project.client.http.post(
                f"{self.path}skip/", {"reason": reason}, idempotent=True
            ).json()
            self._finish()
        return Assignment.from_json(data)

    def _finish(self) -> None:
        self.finished = True
        self.stop_renewing()


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def read_tasks_file(path: Path) -> Iterator[dict[str, Any]]:
    """Tasks from a JSON Lines file, one at a time, or from a JSON list."""
    if path.suffix.lower() == ".json":
        with path.open("rb") as handle:
            loaded = json.load(handle)
        yield from loaded if isinstance(loaded, list) else [loaded]
        return
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def problem_from(problem: dict[str, Any], offset: int) -> ImportProblem:
    """A server problem (``where: "item 7"``) with its row over the whole import."""
    where = str(problem.get("where", ""))
    match = re.match(r"^item (\d+)$", where)
    row = offset + int(match[1]) if match else None
    return ImportProblem(
        row=row,
        field=str(problem.get("field", "")),
        message=str(problem.get("message", "")),
        where=where,
    )


def problem_from_message(message: str, offset: int) -> ImportProblem:
    """A failed background import's message (``item 7, data.image: …``) as a problem."""
    match = ROW.match(message)
    if not match:
        return ImportProblem(row=None, field="", message=message)
    return ImportProblem(
        row=offset + int(match[1]), field=match[2] or "", message=match[3], where=f"item {match[1]}"
    )


__all__ = [
    "Client",
    "ConnectionFailed",
    "ExportDownload",
    "ImportJob",
    "Project",
    "ResultFeed",
    "WorkItem",
]
