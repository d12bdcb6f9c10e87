from django.core.management import call_command


def test_openapi_schema_validates_without_warnings_and_has_examples(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for operation in ("projects_create", "projects_tasks_create", "tasks_retrieve"):
        assert f"operationId: {operation}" in text
    assert text.count("examples:") >= 8
