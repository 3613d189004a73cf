"""Alerts: every block and failure is a row in the alerts table, and optionally a Slack-style
webhook POST. A webhook that is down never fails a run."""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from fullcourt.context import locate
from fullcourt.engine.warehouse import check_identifier

WEBHOOK_ENV = "FULLCOURT_ALERT_WEBHOOK"
TIMEOUT_SECONDS = 2.0


@dataclass
class Alert:
    """One alert: `severity` is "error" (a failure) or "critical" (a blocked run)."""

    severity: str
    processor: str | None
    data_date: date | None
    message: str
    remedy: str | None = None
    delivered: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "processor": self.processor,
            "date": self.data_date.isoformat() if self.data_date else None,
            "message": self.message,
            "remedy": self.remedy,
            "delivered": self.delivered,
        }

    def slack_payload(self) -> dict[str, Any]:
        """A Slack incoming-webhook payload: a `text` fallback plus one section block."""
        head = f":rotating_light: fullcourt {self.severity}: {self.message}"
        text = head + (f"\nFix: `{self.remedy}`" if self.remedy else "")
        return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


class Notifier:
    """Writes alerts and posts them to $FULLCOURT_ALERT_WEBHOOK (if set).

    After the first delivery error the notifier stops posting for the rest of the command, so
    a dead hook costs one timeout, not one per alert.
    """

    def __init__(self, table: str, webhook: str | None = None) -> None:
        self.table = check_identifier(table)
        self.webhook = webhook if webhook is not None else os.environ.get(WEBHOOK_ENV) or None
        self.broken = False
        self.sent: list[Alert] = []

    def raise_alert(self, con: duckdb.DuckDBPyConnection, alert: Alert) -> Alert:
        """Record `alert` (caller may own the transaction) and post it if a webhook is set. Its
        remedy names the store and landing folder the running command was given."""
        alert.remedy = locate(alert.remedy)
        alert.delivered = self._post(alert) if self.webhook else None
        con.execute(
            f"INSERT INTO {self.table} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [uuid.uuid4().hex[:16], datetime.now(), alert.severity, alert.processor, alert.data_date,
             alert.message, alert.remedy, alert.delivered],
        )
        self.sent.append(alert)
        return alert

    def _post(self, alert: Alert) -> bool:
        if self.broken or not self.webhook:
            return False
        body = json.dumps(alert.slack_payload()).encode("utf-8")
        try:  # a malformed URL raises ValueError here: a dead hook never fails the run
            request = urllib.request.Request(
                self.webhook, data=body, headers={"Content-Type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return 200 <= response.status < 300
        except (urllib.error.URLError, OSError, ValueError):
            self.broken = True
            return False
