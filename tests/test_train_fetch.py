"""fetch_data against a local HTTP server serving small fixture files (no internet)."""

from __future__ import annotations

import csv
import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from train import fetch_data
from train.data import CORPORA, command, read_labelled_csv

DAVIDSON = (
    ",count,hate_speech,offensive_language,neither,class,tweet\n"
    '0,3,0,0,3,2,"have a &amp; nice   day"\n'
    "1,3,0,3,0,1,you are a trash person\n"
    "2,3,2,1,0,0,hateful words about a group\n"
    "3,3,0,0,3,2,HAVE A &amp; NICE DAY\n"
)
OLID = (
    "id\ttweet\tsubtask_a\tsubtask_b\tsubtask_c\n"
    "1\t@USER you are an idiot\tOFF\tTIN\tIND\n"
    "2\t@USER lovely weather URL\tNOT\tNULL\tNULL\n"
    "3\tthis shit is wild\tOFF\tUNT\tNULL\n"
)
KAGGLE_TRAIN = 'Insult,Date,Comment\n1,2012,"""you\\xc2\\xa0moron"""\n0,2012,"""nice \\\\xc3\\\\xa9 point"""\n'
KAGGLE_TEST = 'Insult,Date,Comment,Usage\n0,2012,"""thanks all""",Public\n'
TWEETS_CSV = (
    "tweet_text,cyberbullying_type\n"
    "school bully pushed me,other_cyberbullying\n"
    "lunch was good,not_cyberbullying\n"
    "same text twice,age\n"
    "same text twice,not_cyberbullying\n"
)


def _zip(member: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, text)
    return buffer.getvalue()


def fixture_files() -> dict[str, bytes]:
    """URL path -> body, for every download of every corpus."""
    files: dict[str, bytes] = {}
    bodies = {
        "cyberbullying_tweets": [_zip("cyberbullying_tweets.csv", TWEETS_CSV)],
        "davidson_hate_offensive": [DAVIDSON.encode()],
        "olid_offensive": [OLID.encode()],
        "kaggle_insults": [KAGGLE_TRAIN.encode(), KAGGLE_TEST.encode()],
        "toxigen_implicit": [
            f"- {kind} statement about {group}\\n- another {kind} one\n".encode()
            for kind in ("hate", "neutral")
            for group in fetch_data.TOXIGEN_GROUPS
        ],
    }
    for corpus in fetch_data.SOURCES:
        for item, body in zip(corpus.downloads, bodies[corpus.name], strict=True):
            files[item.url.removeprefix(fetch_data.GITHUB)] = body
    return files


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, dict[str, bytes]]]:
    files = fixture_files()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", files
    httpd.shutdown()
    httpd.server_close()


def test_fetch_writes_every_corpus_as_text_label_category(
    server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = server
    assert fetch_data.main(["--dest", str(tmp_path), "--base-url", base]) == 0
    out = capsys.readouterr()
    assert "[" in out.err and "MB" in out.err  # the progress bar
    assert (
        f"done: train with `{command(f'train.train --data-dir {tmp_path}')}`" in out.out
    )
    for name in CORPORA:
        data = read_labelled_csv(tmp_path / name / "train.csv")
        assert data.texts and set(data.labels) == {0, 1}, name
    davidson = read_labelled_csv(tmp_path / "davidson_hate_offensive" / "train.csv")
    rows = dict(
        zip(
            davidson.texts,
            zip(davidson.labels, davidson.categories, strict=True),
            strict=True,
        )
    )
    # entities unescaped, spaces collapsed, the upper-case duplicate kept once
    assert rows == {
        "have a & nice day": (0, "neither"),
        "you are a trash person": (1, "offensive_language"),
        "hateful words about a group": (1, "hate_speech"),
    }
    olid = read_labelled_csv(tmp_path / "olid_offensive" / "train.csv")
    assert sorted(olid.categories) == ["NOT", "OFF/TIN/IND", "OFF/UNT"]
    kaggle = read_labelled_csv(tmp_path / "kaggle_insults" / "train.csv")
    assert sorted(kaggle.texts) == ["nice é point", "thanks all", "you moron"]
    tweets = read_labelled_csv(tmp_path / "cyberbullying_tweets" / "train.csv")
    assert "same text twice" not in tweets.texts  # seen with both labels: dropped
    toxigen = read_labelled_csv(tmp_path / "toxigen_implicit" / "train.csv")
    assert "hate statement about women" in toxigen.texts
    with open(
        tmp_path / "olid_offensive" / "train.csv", newline="", encoding="utf-8"
    ) as fh:
        assert next(csv.reader(fh)) == ["text", "label", "category"]
    sums = (tmp_path / "SHA256SUMS").read_text()
    assert len(sums.splitlines()) == sum(len(c.downloads) for c in fetch_data.SOURCES)


def test_fetch_refuses_a_download_whose_sha256_changed(
    server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, files = server
    args = ["--dest", str(tmp_path), "--base-url", base, "--only", "olid_offensive"]
    assert fetch_data.main(args) == 0
    target = tmp_path / "olid_offensive" / "train.csv"
    # One corpus of five: `--data-dir` would stop at the missing four, so the last
    # line names them and the file that is there, not a run that fails.
    done = capsys.readouterr().out.splitlines()[-1]
    assert done.startswith(f"done; {tmp_path} still lacks cyberbullying_tweets, ")
    assert f"`--data {target}`" in done and "--data-dir" in done
    before = target.read_bytes()
    path = next(p for p in files if p.endswith(".tsv"))
    original = files[path]
    files[path] = original + b"4\tsneaky extra row\tNOT\tNULL\tNULL\n"
    try:
        assert fetch_data.main(args) == 2
    finally:
        files[path] = original
    err = capsys.readouterr().err
    assert "sha256" in err and "nothing was written" in err and "Traceback" not in err
    assert target.read_bytes() == before


def test_fetch_checks_a_recorded_sha256_and_names_unreachable_files(
    server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, files = server
    olid = next(c for c in fetch_data.SOURCES if c.name == "olid_offensive")
    body = files[olid.downloads[0].url.removeprefix(fetch_data.GITHUB)]
    good = fetch_data.Corpus(
        olid.name,
        (fetch_data.Download(olid.downloads[0].url, hashlib.sha256(body).hexdigest()),),
        olid.convert,
    )
    bad = fetch_data.Corpus(
        olid.name, (fetch_data.Download(olid.downloads[0].url, "0" * 64),), olid.convert
    )
    args = ["--dest", str(tmp_path), "--base-url", base]
    assert fetch_data.main(args, sources=[good]) == 0
    assert fetch_data.main(args, sources=[bad]) == 2
    assert "differs from the recorded 0000" in capsys.readouterr().err
    missing = fetch_data.Corpus(
        "x", (fetch_data.Download(fetch_data.GITHUB + "/no/such/file"),), olid.convert
    )
    assert fetch_data.main(args, sources=[missing]) == 2
    err = capsys.readouterr().err
    assert f"{base}/no/such/file: download failed" in err


def test_fetch_errors_say_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fetch_data.main(["--only", "tweets", "--dest", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "error: unknown corpus tweets; choose from "
        + ", ".join(c.name for c in fetch_data.SOURCES)
    )
    # nothing listens on port 1: the connection is refused, as offline
    args = ["--dest", str(tmp_path), "--base-url", "http://127.0.0.1:1"]
    assert fetch_data.main([*args, "--only", "olid_offensive"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: http://127.0.0.1:1/") and err.endswith(
        "check the internet connection, or pass --base-url with a mirror you can reach"
    ), err


def test_offline_and_a_dest_that_is_a_file_are_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Offline, stderr is the error line alone (it began with an empty line where no
    progress bar had been drawn); a --dest that is a file, or inside one, is refused
    before anything is downloaded."""
    offline = ["--base-url", "http://127.0.0.1:1", "--only", "olid_offensive"]
    assert fetch_data.main([*offline, "--dest", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == "olid_offensive:\n"
    assert len(err.splitlines()) == 1 and err.startswith("error: http://127.0.0.1:1/")
    file = tmp_path / "notes.txt"
    file.write_text("not a folder\n")
    for dest in (file, file / "data"):
        assert fetch_data.main([*offline, "--dest", str(dest)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err == (
            f"error: --dest {dest}: {file} is a file, not a folder\n"
        ), err
