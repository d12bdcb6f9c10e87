"""Background entry points of the sandbox: on their own queue, ``sandbox``.

Run a worker for it with ``manage.py db_worker --queue-name sandbox`` — on this machine or on
others that reach the same database and have bubblewrap installed; the judging workers
(``--queue-name default``) never take these jobs, so a slow verifier delays no judging.
"""

from django.tasks import task

from sandbox.services import audit_run, proof_run

SANDBOX_QUEUE = "sandbox"


@task(queue_name=SANDBOX_QUEUE)
def run_proof(proof_id: int) -> None:
    """Run one queued proof in the sandbox."""
    proof_run(proof_id=proof_id)


@task(queue_name=SANDBOX_QUEUE)
def run_audit(audit_id: int) -> None:
    """Run one queued audit attempt in the sandbox."""
    audit_run(audit_id=audit_id)
