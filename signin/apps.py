from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "signin"
    verbose_name = "Sign-in (OpenID Connect)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        user_logged_out.connect(_forget_session, dispatch_uid="signin-forget-session")


def _forget_session(sender, request, **kwargs) -> None:
    from signin.services import session_forget

    if request is not None and hasattr(request, "session"):
        session_forget(session_key=request.session.session_key)
