"""Download the public corpora and write them as ``text,label,category`` CSV files.

    python -m train.fetch_data [--dest DIR]          # default: ../shared/data

Every source is a file at a fixed commit of a public GitHub repository (see
``SOURCES``; origins, citations and licences are described in docs/model.md).  Each
download is shown with a progress bar and checked against its sha256: a recorded
value in ``SOURCES`` must match, and a value seen for the first time is written to
``DIR/SHA256SUMS`` and checked on every later run (a commit-pinned file never changes,
so a difference means a corrupt or tampered download).  The written CSVs follow the
corpora's conventions: HTML entities unescaped, whitespace collapsed, exact duplicates
(case-insensitive) kept once, texts seen with both labels dropped, rows ordered by the
sha256 of their text.  The result's sha256 is compared with the file the committed
model was trained on, and a difference is reported.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import hashlib
import html
import io
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from train.data import (
    CORPORA,
    DEFAULT_SHARED_DATA,
    DataError,
    command,
    corpus_name,
    corpus_path,
    fetch_command,
    refuse_file_on_path,
    run_cli,
)

GITHUB = "https://raw.githubusercontent.com"
TOXIGEN_GROUPS = (
    "asian bisexual black chinese immigrant jewish latino lgbtq mental_disability "
    "mexican middle_east muslim native_american physical_disability women"
).split()
SUMS_FILE = "SHA256SUMS"
Row = tuple[str, int, str]


@dataclass(frozen=True)
class Download:
    """One source file: where it is, and its sha256 when recorded (else first use)."""

    url: str
    sha256: str | None = None


@dataclass(frozen=True)
class Corpus:
    """A corpus: its downloads, how to turn them into rows, the expected CSV's sha256."""

    name: str
    downloads: tuple[Download, ...]
    convert: Callable[[list[bytes]], Iterable[Row]]
    csv_sha256: str | None = None


def _davidson(blobs: list[bytes]) -> Iterable[Row]:
    names = {"0": "hate_speech", "1": "offensive_language", "2": "neither"}
    for row in csv.DictReader(io.StringIO(blobs[0].decode("utf-8", "replace"))):
        cls = row["class"].strip()
        yield row["tweet"], int(cls in ("0", "1")), names[cls]


def _olid(blobs: list[bytes]) -> Iterable[Row]:
    reader = csv.DictReader(io.StringIO(blobs[0].decode("utf-8")), delimiter="\t")
    for row in reader:
        levels = [row[k] for k in ("subtask_a", "subtask_b", "subtask_c")]
        category = "/".join(v for v in levels if v and v != "NULL")
        yield row["tweet"], int(row["subtask_a"] == "OFF"), category


def _kaggle_comment(raw: str) -> str:
    text = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    for _ in range(2):  # some comments are escaped twice ("\\xc2\\xa0")
        if "\\" not in text:
            break
        text = codecs.decode(
            text.encode("latin-1", "backslashreplace"), "unicode_escape"
        )
    try:  # bytes decoded as latin-1 by the escapes: repair the UTF-8 mojibake
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _kaggle(blobs: list[bytes]) -> Iterable[Row]:
    for blob in blobs:
        for row in csv.DictReader(io.StringIO(blob.decode("utf-8", "replace"))):
            label = int(row["Insult"])
            yield (
                _kaggle_comment(row["Comment"]),
                label,
                "insult" if label else "not_insult",
            )


def _tweets(blobs: list[bytes]) -> Iterable[Row]:
    with zipfile.ZipFile(io.BytesIO(blobs[0])) as archive:
        data = archive.read("cyberbullying_tweets.csv").decode("utf-8", "replace")
    for row in csv.DictReader(io.StringIO(data)):
        kind = row["cyberbullying_type"]
        yield row["tweet_text"], int(kind != "not_cyberbullying"), kind


def _toxigen(blobs: list[bytes]) -> Iterable[Row]:
    kinds = [(k, g) for k in ("hate", "neutral") for g in TOXIGEN_GROUPS]
    for (kind, group), blob in zip(kinds, blobs, strict=True):
        for line in blob.decode("utf-8").splitlines():
            for statement in line.split("\\n"):
                text = statement.strip().lstrip("-").strip()
                if text:
                    yield text, int(kind == "hate"), f"{kind}_{group}"


def _gh(repo: str, commit: str, path: str) -> Download:
    return Download(f"{GITHUB}/{repo}/{commit}/{path}")


SOURCES: tuple[Corpus, ...] = (
    Corpus(
        "cyberbullying_tweets",
        (
            _gh(
                "Xceler/Cyberbullying-Detection-Project",
                "b890e002a2a276e315e3cba9a1319f8dab517eaf",
                "cyberbullying-classification.zip",
            ),
        ),
        _tweets,
        "a06f9ca3519340113f3f24e38ef1cbf6dbe78ae4c284fee260008e704c8119e6",
    ),
    Corpus(
        "davidson_hate_offensive",
        (
            _gh(
                "t-davidson/hate-speech-and-offensive-language",
                "cb50f7e9eb855a99abc51423bf40df0e26d6fe30",
                "data/labeled_data.csv",
            ),
        ),
        _davidson,
        "d954821599debd2f4243182d8cfa0a8d0477f620c440a127cec4d3f19bdc1a30",
    ),
    Corpus(
        "olid_offensive",
        (
            _gh(
                "amirhossein-alizad/Multilingual-Graph-Network",
                "09635e1305bef23965b7bb299582540a7dc32949",
                "data/olid-training-v1.0.tsv",
            ),
        ),
        _olid,
        "2476efbbdab45a06cc56dd275fe159d072a9545a3c3f2f3503e11bd48d8d6201",
    ),
    Corpus(
        "kaggle_insults",
        tuple(
            _gh(
                "amueller/kaggle_insults", "e4abac805be1d1e2b3201a978172bafd36cc01e3", f
            )
            for f in ("train.csv", "test_with_solutions.csv")
        ),
        _kaggle,
        "06ca5414650b91c44d12a375dd0a143c89c947ae3b6a78945f4bf363420864dc",
    ),
    Corpus(
        "toxigen_implicit",
        tuple(
            _gh(
                "microsoft/TOXIGEN",
                "01517e814639e0334c920a3c502036c8158aac87",
                f"prompts/{kind}_{group}_1k.txt",
            )
            for kind in ("hate", "neutral")
            for group in TOXIGEN_GROUPS
        ),
        _toxigen,
        "840242750356cd39f209bc8152b8ebb5f7f9f0d78ce0157a4e1b9aa63b440aa1",
    ),
)
assert tuple(c.name for c in SOURCES) == CORPORA


def changed_warning(path: Path, sha256: str) -> str | None:
    """A warning line when ``path`` is a corpus file whose bytes are not those of the
    file this command writes (cut short or edited, yet still a valid CSV), else None:
    training goes on, as a student may change a corpus on purpose."""
    name = corpus_name(path)
    expected = next((c.csv_sha256 for c in SOURCES if c.name == name), None)
    if expected is None or sha256 == expected:
        return None
    return (
        f"warning: {path} is not the {name} file `train.fetch_data` writes (sha256 "
        f"{sha256[:12]}…, not {expected[:12]}…): cut short or edited? If not on "
        "purpose, fetch it again with " + fetch_command(path.parent.parent, name)
    )


_SPACES = re.compile(r"\s+")


def clean_rows(rows: Iterable[Row]) -> list[Row]:
    """Normalise texts, keep one copy of duplicates, drop label conflicts, fix the order."""
    first: dict[str, Row] = {}
    labels: dict[str, set[int]] = {}
    for text, label, category in rows:
        text = _SPACES.sub(" ", html.unescape(text)).strip()
        if not text:
            continue
        key = text.lower()
        labels.setdefault(key, set()).add(label)
        first.setdefault(key, (text, label, category))
    kept = [row for key, row in first.items() if len(labels[key]) == 1]
    return sorted(kept, key=lambda r: hashlib.sha256(r[0].encode("utf-8")).hexdigest())


def write_csv(path: Path, rows: list[Row]) -> str:
    """Write ``text,label,category`` rows (RFC 4180, ``\\n``); return the file's sha256."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["text", "label", "category"])
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return hashlib.sha256(data).hexdigest()


def progress_bar(label: str, done: int, total: int | None) -> None:
    """Draw one progress line on stderr (MB so far, and a bar when the size is known)."""
    out = sys.stderr
    if total:
        filled = int(30 * done / total)
        bar = "#" * filled + "-" * (30 - filled)
        out.write(f"\r  {label} [{bar}] {done / 1e6:6.2f}/{total / 1e6:.2f} MB")
    else:
        out.write(f"\r  {label} {done / 1e6:6.2f} MB")
    out.flush()


def download(url: str, label: str, timeout: float = 60.0) -> bytes:
    """GET ``url`` with a progress bar; a network or HTTP error is a ``DataError``."""
    chunks: list[bytes] = []
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - fixed https URLs (tests: http://127.0.0.1)
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            while chunk := response.read(1 << 16):
                chunks.append(chunk)
                done += len(chunk)
                progress_bar(label, done, total)
    except urllib.error.HTTPError as exc:  # the server answered: no network advice
        _end_bar(chunks)
        raise DataError(f"{url}: download failed ({exc})") from None
    except (urllib.error.URLError, OSError) as exc:
        _end_bar(chunks)
        raise DataError(
            f"{url}: download failed ({exc}); check the internet connection, or "
            "pass --base-url with a mirror you can reach"
        ) from None
    _end_bar(chunks)
    return b"".join(chunks)


def _end_bar(chunks: list[bytes]) -> None:
    """End the progress line, when one was drawn (a chunk arrived), so that what
    follows starts on a line of its own, and an error is a line alone."""
    if chunks:
        sys.stderr.write("\n")


def read_sums(path: Path) -> dict[str, str]:
    """Read ``SHA256SUMS`` lines ``<sha256>  <url>``."""
    if not path.is_file():
        return {}
    sums = {}
    for line in path.read_text("utf-8").splitlines():
        digest, _, url = line.partition("  ")
        if digest and url:
            sums[url] = digest
    return sums


def fetch_corpus(corpus: Corpus, dest: Path, base_url: str = GITHUB) -> Path:
    """Download, verify and convert one corpus; return the CSV's path."""
    sums_path = dest / SUMS_FILE
    sums = read_sums(sums_path)
    blobs = []
    for i, item in enumerate(corpus.downloads, start=1):
        url = base_url + item.url.removeprefix(GITHUB)
        label = f"{corpus.name} {i}/{len(corpus.downloads)}"
        blob = download(url, label)
        digest = hashlib.sha256(blob).hexdigest()
        expected = item.sha256 or sums.get(item.url)
        if expected and digest != expected:
            raise DataError(
                f"{url}: sha256 {digest} differs from the recorded {expected}; "
                "the download is corrupt or the source changed, nothing was written"
            )
        if expected is None:
            sums[item.url] = digest
        blobs.append(blob)
    rows = clean_rows(corpus.convert(blobs))
    target = corpus_path(dest, corpus.name)
    digest = write_csv(target, rows)
    sums_path.write_text(
        "".join(f"{d}  {u}\n" for u, d in sorted(sums.items())), "utf-8"
    )
    positives = sum(r[1] for r in rows)
    print(f"  wrote {target}: {len(rows)} rows, {positives} positive, sha256 {digest}")
    if corpus.csv_sha256 and digest != corpus.csv_sha256:
        print(
            f"  note: differs from the file the committed model was trained on "
            f"(sha256 {corpus.csv_sha256}); your model card will record yours"
        )
    return target


def http_url(text: str) -> str:
    """An argparse ``type``: an http(s) URL with a host, else a usage error."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"expected an http:// or https:// URL, got {text!r}"
        )
    return text


def main(argv: Sequence[str] | None = None, sources: Sequence[Corpus] = SOURCES) -> int:
    """Run the fetch CLI; return the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m train.fetch_data",
        description="Download the public corpora as text,label,category CSV files.",
    )
    parser.add_argument(
        "--dest",
        default=str(DEFAULT_SHARED_DATA),
        help="folder to write NAME/train.csv and SHA256SUMS into (default: "
        "../shared/data beside the repository)",
    )
    parser.add_argument("--only", action="append", help="corpus name (repeatable)")
    parser.add_argument(
        "--base-url",
        type=http_url,
        default=GITHUB,
        help="mirror of raw.githubusercontent.com",
    )
    args = parser.parse_args(argv)
    dest = Path(args.dest)
    chosen = [c for c in sources if not args.only or c.name in args.only]
    unknown = set(args.only or ()) - {c.name for c in sources}
    if unknown:
        print(
            f"error: unknown corpus {', '.join(sorted(unknown))}; choose from "
            f"{', '.join(c.name for c in sources)}",
            file=sys.stderr,
        )
        return 2
    try:
        refuse_file_on_path(dest, "--dest")
        for corpus in chosen:
            print(f"{corpus.name}:", flush=True)
            fetch_corpus(corpus, dest, args.base_url.rstrip("/"))
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {dest}: {exc}", file=sys.stderr)
        return 2
    missing = [name for name in CORPORA if not corpus_path(dest, name).is_file()]
    if missing:
        # `--only`: a run with `--data-dir` needs every corpus, so say what is left.
        print(
            f"done; {dest} still lacks {', '.join(missing)}: fetch them too before "
            f"`{command(f'train.train --data-dir {dest}')}`, or train on what is there "
            f"with `--data {corpus_path(dest, chosen[0].name)}` beside your own files"
        )
    else:
        print(f"done: train with `{command(f'train.train --data-dir {dest}')}`")
    return 0


if __name__ == "__main__":
    run_cli(main)
