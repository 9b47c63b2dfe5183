"""An SMTP stand-in for an external mail provider, with the provider's rate limit.

    python deploy/smtp_standin.py --host 127.0.0.1 --port 2525 \\
        --max-per-second 20 --mailbox .cluster/mail/mailbox.jsonl

It accepts mail and appends one JSON line per accepted message to the mailbox
(``message_id``, ``to`` (the envelope recipients), ``subject``, ``accepted_at``),
and behaves as a provider with a sending quota and an idempotency key:

- more than ``--max-per-second`` messages accepted in the last second (a sliding
  window) and the next is refused with ``451 4.7.1 Rate limit exceeded``;
- a message whose Message-ID it has accepted before is answered ``250`` and not
  stored again (a duplicate), also across restarts (the mailbox is read at start).

Counts go to ``<mailbox>.stats.json`` (``accepted``, ``refused``, ``duplicates``),
replaced on every event, and each event is a line on stderr. ``read_mailbox`` and
``read_stats`` read both back. Standalone: the standard library and aiosmtpd only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import time
from collections import deque
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

logger = logging.getLogger("smtp_standin")

RATE_LIMITED = "451 4.7.1 Rate limit exceeded"


def stats_path(mailbox: Path | str) -> Path:
    return Path(f"{mailbox}.stats.json")


def read_mailbox(path: Path | str) -> list[dict]:
    """Every accepted message, in the order accepted (an empty list before the first)."""
    try:
        text = Path(path).read_text("utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_stats(mailbox: Path | str) -> dict[str, int]:
    """``{"accepted", "refused", "duplicates"}`` so far (zeros before the first message)."""
    try:
        return json.loads(stats_path(mailbox).read_text("utf-8"))
    except FileNotFoundError:
        return {"accepted": 0, "refused": 0, "duplicates": 0}


class Provider:
    """The aiosmtpd handler: decides at DATA, when the Message-ID is known."""

    def __init__(self, *, max_per_second: int, mailbox: Path, clock=time.monotonic):
        self.max_per_second = max_per_second
        self.mailbox = mailbox
        self.clock = clock
        self.recent: deque[float] = deque()  # when the last second's messages were accepted
        accepted = read_mailbox(mailbox)
        self.seen = {m["message_id"] for m in accepted if m["message_id"]}
        self.stats = read_stats(mailbox)
        self.stats["accepted"] = len(accepted)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = message_from_bytes(envelope.original_content or b"", policy=default_policy)
        message_id = str(message.get("Message-ID", "")).strip()
        if message_id and message_id in self.seen:
            return self._count("duplicates", message_id, "250 2.0.0 Already accepted")
        now = self.clock()
        while self.recent and self.recent[0] <= now - 1:
            self.recent.popleft()
        if self.max_per_second and len(self.recent) >= self.max_per_second:
            return self._count("refused", message_id, RATE_LIMITED)
        self.recent.append(now)
        record = {
            "message_id": message_id,
            "to": list(envelope.rcpt_tos),
            "subject": str(message.get("Subject", "")),
            "accepted_at": datetime.now(UTC).isoformat(),
        }
        with self.mailbox.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        if message_id:
            self.seen.add(message_id)
        return self._count("accepted", message_id, "250 2.0.0 OK")

    def _count(self, event: str, message_id: str, reply: str) -> str:
        self.stats[event] += 1
        target = stats_path(self.mailbox)
        partial = target.with_name(target.name + ".part")
        partial.write_text(json.dumps(self.stats), encoding="utf-8")
        os.replace(partial, target)  # a reader never sees half a file
        logger.info("%s %s %s", event, message_id or "(no Message-ID)", json.dumps(self.stats))
        return reply


async def serve(host: str, port: int, provider: Provider) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(provider, hostname="smtp-standin", ident="smtp-standin"), host, port
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logger.info(
        "listening on %s:%s, at most %s messages a second, mailbox %s",
        host,
        port,
        provider.max_per_second or "any number of",
        provider.mailbox,
    )
    await stop.wait()
    server.close()
    await server.wait_closed()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-per-second", type=int, default=20, help="0: no limit (default 20)")
    parser.add_argument("--mailbox", type=Path, required=True, help="JSON lines file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    # aiosmtpd narrates every connection and command at INFO.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    args.mailbox.parent.mkdir(parents=True, exist_ok=True)
    provider = Provider(max_per_second=args.max_per_second, mailbox=args.mailbox)
    asyncio.run(serve(args.host, args.port, provider))


if __name__ == "__main__":
    main()
