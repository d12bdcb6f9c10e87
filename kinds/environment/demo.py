"""The demo's environment project: three authored tasks, each with its proof.

``seed_demo`` calls :func:`seed`; the tasks are also the examples of ``docs/environments.md``
and the fixtures of the tests (``tests/environment``).
"""

INVOICES_CSV = (
    "id,customer,amount,status\n1,Acme,120.50,paid\n2,Globex,75.00,open\n3,Acme,30.25,open\n"
)

INVOICE_TASK = {
    "instruction": (
        "The file `invoices.csv` lists invoices. Write `summary.json` with the total amount of "
        "the **open** invoices under `open_total` and their ids under `open_ids`."
    ),
    "files": {"invoices.csv": INVOICES_CSV},
    "tools": ["bash", "python"],
    "verifier": {
        "checks": [
            {"file": "summary.json", "json": "$.open_total", "op": "eq", "value": 105.25},
            {"file": "summary.json", "json": "$.open_ids", "op": "deep_equal", "value": [2, 3]},
        ],
        "checks_mode": "all",
    },
    "solution": (
        "python3 - <<'PY'\n"
        "import csv, json\n"
        "rows = [r for r in csv.DictReader(open('invoices.csv')) if r['status'] == 'open']\n"
        "json.dump({'open_total': round(sum(float(r['amount']) for r in rows), 2),\n"
        "           'open_ids': [int(r['id']) for r in rows]}, open('summary.json', 'w'))\n"
        "PY\n"
    ),
    "wrong_attempt": (
        "python3 - <<'PY'\n"
        "import csv, json\n"
        "rows = list(csv.DictReader(open('invoices.csv')))  # forgets to keep only open ones\n"
        "json.dump({'open_total': round(sum(float(r['amount']) for r in rows), 2),\n"
        "           'open_ids': [int(r['id']) for r in rows]}, open('summary.json', 'w'))\n"
        "PY\n"
    ),
    "difficulty": "easy",
    "expected_minutes": 5,
}

PYTEST_TASK = {
    "instruction": "Fix `slug.py`: `slugify` must lower-case, and join words with single dashes.",
    "files": {
        "slug.py": "def slugify(text):\n    return text.replace(' ', '_')\n",
    },
    "tools": ["bash", "python", "read_file", "write_file"],
    "verifier": {
        "script": {
            "language": "pytest",
            "code": (
                "import sys\n"
                "sys.path.insert(0, '/app')\n"
                "from slug import slugify\n\n\n"
                "def test_lower_and_dashes():\n"
                "    assert slugify('Hello  Big World') == 'hello-big-world'\n"
            ),
        }
    },
    "solution": (
        "cat > slug.py <<'PY'\ndef slugify(text):\n    return '-'.join(text.lower().split())\nPY\n"
    ),
    "wrong_attempt": (
        "cat > slug.py <<'PY'\ndef slugify(text):\n    return text.lower().replace(' ', '-')\nPY\n"
    ),
    "difficulty": "medium",
    "expected_minutes": 10,
}

SHELL_TASK = {
    "instruction": "Rename every `.txt` file under `notes/` to `.md`, keeping the names.",
    "files": {"notes/a.txt": "alpha\n", "notes/b.txt": "beta\n"},
    "tools": ["bash", "list_files"],
    "verifier": {
        "script": {
            "language": "shell",
            "code": (
                "n=$(ls notes/*.md 2>/dev/null | wc -l)\n"
                "left=$(ls notes/*.txt 2>/dev/null | wc -l)\n"
                'if [ "$n" -eq 2 ] && [ "$left" -eq 0 ]; then echo 1 > "$REWARD_FILE"; '
                'else echo 0 > "$REWARD_FILE"; fi\n'
            ),
        },
        "rubric": [{"claim": "The instruction says what happens to other files.", "points": 1}],
    },
    "solution": 'for f in notes/*.txt; do mv "$f" "${f%.txt}.md"; done\n',
    "wrong_attempt": "mv notes/a.txt notes/a.md\n",
    "difficulty": "easy",
    "expected_minutes": 3,
}

TASKS = [INVOICE_TASK, PYTEST_TASK, SHELL_TASK]
BRIEFS = [
    {"brief": "Write a task for a spreadsheet agent about invoices.", "domain": "finance"},
    {"brief": "Write a bug-fix task for a coding agent with a pytest verifier.", "domain": "code"},
    {"brief": "Write a file-handling task for a shell agent.", "domain": "files"},
]
