import pytest
from django.core.management import call_command
from django.urls import reverse

from annotation.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip(client):
    call_command("seed_demo", tasks=40, stdout=open("/dev/null", "w"))  # noqa: SIM115
    client.login(username="ana", password="labelhub-demo")
    task = Task.objects.filter(project__kind="transcription").first()
    return reverse("annotation:task-media", kwargs={"task_id": task.pk}), task.media.read()


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_whole_file_says_it_accepts_ranges(client, clip):
    url, content = clip
    response = client.get(url)
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "audio/flac"
    assert body(response) == content


def test_byte_ranges_return_exactly_the_bytes_asked_for(client, clip):
    url, content = clip
    size = len(content)
    for header, start, end in [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, size - 1),
        ("bytes=-50", size - 50, size - 1),
        (f"bytes=10-{size + 500}", 10, size - 1),
    ]:
        response = client.get(url, headers={"Range": header})
        assert response.status_code == 206, header
        assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
        assert body(response) == content[start : end + 1]


def test_range_past_the_end_is_refused(client, clip):
    url, content = clip
    response = client.get(url, headers={"Range": f"bytes={len(content) + 10}-"})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(content)}"
