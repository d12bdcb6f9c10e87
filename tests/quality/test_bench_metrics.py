from io import StringIO

from django.core.management import call_command


def test_bench_metrics_prints_a_rate_per_kind_and_computation():
    out = StringIO()
    call_command("bench_metrics", seconds=0.001, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["kind", "size", "score/s", "agree/s", "consensus/s"]
    kinds = [line[:18].strip() for line in lines[1:]]
    assert kinds == ["bbox", "ranking pairwise", "ranking rank", "transcription"]
    for line in lines[1:]:
        rates = [float(value.replace(",", "")) for value in line.split()[-3:]]
        assert all(rate > 0 for rate in rates)
