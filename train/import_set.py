"""Add a development set without reading it: copy a labelled CSV into ``train/eval/``
minus every row some model may already have learned.

    python -m train.import_set FILE.csv NAME [--data-dir DIR] [--eval-dir DIR]

A row is dropped when its text, lower-cased with runs of whitespace made one space,
equals an earlier row of the same file, or a row of an own training file
(``train/data/*.csv``), of another development set (``train/eval/*.csv``) or of a
public corpus (``--data-dir``, ``$CYBERSCAN_DATA_DIR``, else ``../shared/data`` when it
exists): a figure measured on a text a model was trained on, or on one already counted
elsewhere, measures memory.  The kept rows are written to ``EVAL_DIR/NAME.csv`` in
their order, as ``text,label,category``; an existing file is never overwritten.  The
report (stdout) gives counts only, never a text, so that whoever imports a set written
by someone else can still say that no model, and no person choosing one, had read it
before it was scored: rows read and kept per label, dropped per label and category,
the files the dropped rows matched, and both sha256s.
Errors are one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from train.data import (
    DEV_SET,
    DataError,
    LabelledData,
    corpus_files,
    display_path,
    find_data_dir,
    from_caller,
    own_files,
    read_labelled_csv,
    run_cli,
)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SPACES = re.compile(r"\s+")


def text_key(text: str) -> str:
    """What two texts must share to count as the same row: case and runs of
    whitespace ignored."""
    return _SPACES.sub(" ", text).strip().lower()


def known_texts(files: Iterable[Path]) -> dict[str, list[str]]:
    """Each text key of ``files`` with the display names of the files that hold it."""
    known: dict[str, list[str]] = {}
    for path in files:
        name = display_path(path)
        for text in read_labelled_csv(path, require_both_classes=False).texts:
            holders = known.setdefault(text_key(text), [])
            if name not in holders:
                holders.append(name)
    return known


def write_rows(data: LabelledData, keep: list[int], dest: Path) -> bytes:
    """The kept rows as CSV bytes, written to ``dest`` (which must not exist)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["text", "label", "category"])
    for i in keep:
        writer.writerow([data.texts[i], data.labels[i], data.categories[i]])
    raw = buffer.getvalue().encode("utf-8")
    with open(dest, "xb") as fh:  # never overwrite a committed set
        fh.write(raw)
    return raw


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m train.import_set",
        description="Copy a labelled CSV into the development sets, without the rows "
        "equal to an earlier row of it, a training row, another development set's row "
        "or a corpus row "
        "(case and runs of spaces ignored); prints counts, never texts.",
    )
    parser.add_argument("file", help="the CSV to import (text,label[,category])")
    parser.add_argument(
        "name",
        help="the new set's name: written to EVAL_DIR/NAME.csv (e.g. dev_set_v9)",
    )
    parser.add_argument(
        "--data-dir",
        help="folder holding the corpora (default: $CYBERSCAN_DATA_DIR, else "
        "../shared/data when it exists; without corpora only the repository's files "
        "are compared, and the report says so)",
    )
    parser.add_argument(
        "--eval-dir",
        default=str(DEV_SET.parent),
        help="where the development sets are (default: train/eval)",
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict:
    """Import ``args.file`` as ``args.name``; return the report."""
    if not _NAME.fullmatch(args.name) or args.name.endswith(".csv"):
        raise DataError(
            f"NAME must be letters, digits, '_', '-' or '.', without '.csv' "
            f"(got {args.name!r})"
        )
    eval_dir = Path(from_caller(args.eval_dir))
    dest = eval_dir / f"{args.name}.csv"
    if not eval_dir.is_dir():
        raise DataError(f"{eval_dir}: --eval-dir is not a folder")
    if dest.exists():
        raise DataError(f"{dest}: already exists; a development set is never replaced")
    source = Path(from_caller(args.file))
    if source.resolve().parent == eval_dir.resolve():
        raise DataError(
            f"{source}: already a development set in {eval_dir}; import a set written "
            "elsewhere"
        )
    data = read_labelled_csv(source, require_both_classes=False)
    data_dir, origin = find_data_dir(from_caller(args.data_dir or "") or None)
    corpora = corpus_files(data_dir) if data_dir is not None else []
    others = sorted(eval_dir.glob("*.csv"))
    own = own_files()
    known = known_texts([*own, *others, *corpora])
    keep, dropped, matched = [], Counter(), Counter()
    for i, text in enumerate(data.texts):
        key = text_key(text)
        holders = known.get(key)
        if holders:
            dropped[(data.labels[i], data.categories[i])] += 1
            matched.update(holders)
        else:
            keep.append(i)
            known[key] = [f"{display_path(source)} (an earlier row of it)"]
    if not keep:
        raise DataError(
            f"{source}: every row equals a row of a training file, a development set, "
            "a corpus or an earlier row of it; nothing to import"
        )
    raw = write_rows(data, keep, dest)
    kept = Counter(data.labels[i] for i in keep)
    return {
        "file": display_path(source),
        "sha256": data.sha256,
        "written": display_path(dest),
        "written_sha256": hashlib.sha256(raw).hexdigest(),
        "rows": len(data.texts),
        "kept": {"0": kept[0], "1": kept[1]},
        "dropped": {
            f"{label} {category}".rstrip(): n
            for (label, category), n in sorted(dropped.items())
        },
        "matched_files": dict(matched.most_common()),
        "compared_with": {
            "own_files": len(own),
            "development_sets": len(others),
            "corpora": (
                f"{display_path(data_dir)} ({origin})"
                if data_dir is not None
                else "none found: rows equal to a corpus row were not looked for"
            ),
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the import CLI; return the process exit code."""
    args = parse_args(argv)
    try:
        report = run(args)
    except (DataError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    run_cli(main)
