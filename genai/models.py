"""A project's connection to the customer's model: an OpenAI-compatible chat endpoint."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from labelhub.encryption import EncryptedTextField


class LiveModel(models.Model):
    """Where a live conversation project sends the contributor's turns.

    ``api_key`` is a secret: the settings page takes a new one and never shows it back (nor does
    the audit log or the admin). ``base_url`` is what the OpenAI SDKs call the base URL (e.g.
    ``https://models.example.com/v1``); ``/chat/completions`` is appended.
    """

    project = models.OneToOneField(
        "labelhub.Project", on_delete=models.CASCADE, related_name="live_model"
    )
    enabled = models.BooleanField(default=True)
    base_url = models.URLField(max_length=500)
    model = models.CharField(max_length=200)
    api_key = EncryptedTextField(blank=True, default="")
    temperature = models.FloatField(
        default=0.7, validators=[MinValueValidator(0.0), MaxValueValidator(2.0)]
    )
    max_tokens = models.PositiveIntegerField(
        default=1024, validators=[MinValueValidator(1), MaxValueValidator(32_000)]
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.model} for project {self.project_id}"

    @property
    def endpoint(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"
