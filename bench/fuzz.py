"""Fuzz every REST endpoint, every socket event and raw Socket.IO packets, at volume.

    .venv/bin/python bench/fuzz.py [--cases 10000] [--seed 20261130] [--database URL]

The same seeded cases as the suite's fuzz (tests/resilience/fuzzcases.py), in-process
against a real database (a temporary SQLite file unless --database names a MySQL/
MariaDB database ending in _test), with TESTING off so a bug answers 500 as in
production. Prints one summary table per target and exits non-zero on any server
error, traceback or accepted hostile request.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from config import TestingConfig  # noqa: E402
from cyberscan import create_app  # noqa: E402
from cyberscan.extensions import db, socketio  # noqa: E402
from tests.resilience import fuzzcases  # noqa: E402

PASSWORD = "correct horse battery"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", type=int, default=10_000, help="per endpoint and event"
    )
    parser.add_argument(
        "--frames", type=int, default=None, help="raw packets (default: --cases)"
    )
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--database", default=None)
    parser.add_argument("--only", choices=["rest", "events", "frames"], default=None)
    parser.add_argument(
        "--match", default=None, help="REST: only operations matching this regex"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL + 1)  # counted, not printed

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/fuzz.db"
        if not url.startswith("sqlite") and not url.split("?")[0].endswith("_test"):
            parser.error("--database must name a database ending in _test")
        # Tokens that outlive the run: with the default 30 minutes, a long run ends up
        # testing only the 401 path.
        app = create_app(
            TestingConfig, DATABASE_URL=url, JWT_ACCESS_TOKEN_EXPIRES=timedelta(days=1)
        )
        with app.app_context():
            db.drop_all()
            db.create_all()
        client = app.test_client()
        world = fuzzcases.prepare_world(app, client, PASSWORD)
        tallies = []
        if args.only in (None, "rest"):
            tallies.append(
                (
                    "REST",
                    fuzzcases.run_rest(
                        app,
                        client,
                        world["tokens"],
                        world["real"],
                        args.seed,
                        args.cases,
                        only=re.compile(args.match) if args.match else None,
                    ),
                )
            )
        sio = socketio.test_client(
            app, auth={"token": world["tokens"]["user"]}, flask_test_client=client
        )
        if args.only in (None, "events"):
            tallies.append(
                ("socket events", fuzzcases.run_events(app, sio, args.seed, args.cases))
            )
        if args.only in (None, "frames"):
            tallies.append(
                (
                    "raw packets",
                    fuzzcases.run_frames(sio, args.seed, args.frames or args.cases),
                )
            )
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()

    failed = False
    print(f"seed {args.seed}, {args.cases} cases per endpoint/event")
    for name, tally in tallies:
        print(f"\n== {name}")
        print(tally.table())
        for failure in tally.failures[:20]:
            print("  FAIL", failure[:300])
        failed |= bool(tally.failures or tally.server_errors or tally.tracebacks)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
