from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Proofs of authored code (environment tasks' verifiers) run behind bubblewrap."""

    name = "sandbox"
    verbose_name = "Sandbox"

    def ready(self) -> None:
        from annotation.events import evidence, result_gate
        from quality import events
        from sandbox.selectors import proof_evidence
        from sandbox.services import proof_refusal
        from sandbox.views import audit_panel

        # An answer (or a reviewer's fix) of a kind that needs proof is refused until a proof
        # of exactly that content holds.
        result_gate.connect(proof_refusal)
        # The JSONL export carries the proof that made each task count.
        evidence.connect(proof_evidence)
        # The quality dashboard of a kind that takes audits shows the audit agreement.
        events.dashboard_panels.connect(audit_panel)
