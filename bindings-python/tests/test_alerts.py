"""Alerts and reports from Python: a rule firing into a signed webhook and an SMTP sink that
the test starts on loopback, events and active alerts as dicts, reports as CSV (the engine's
numbers), JSON and PDF (read back with pdftotext), and bad rules and reports refused."""

import hashlib
import hmac
import http.server
import json
import shutil
import socketserver
import subprocess
import threading
import time

import pytest

import kpi_engine as ke


@pytest.fixture(scope="module")
def engine():
    eng = ke.Engine(ke.Catalog.standard(), timezone="UTC")
    eng.register_demo(rows=2_000, seed=5, start="2024-01-01", end="2024-04-01")
    return eng


def fresh():
    eng = ke.Engine(ke.Catalog.standard(), timezone="UTC")
    eng.register_demo(rows=2_000, seed=5, start="2024-01-01", end="2024-04-01")
    return eng


def until(done, seconds=15.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if done():
            return True
        time.sleep(0.02)
    return done()


class Receiver(http.server.BaseHTTPRequestHandler):
    requests: list = []
    statuses: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).requests.append((self.headers, body))
        self.send_response(type(self).statuses.pop(0) if type(self).statuses else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    Receiver.requests, Receiver.statuses = [], [503]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


class Smtp(socketserver.StreamRequestHandler):
    mails: list = []

    def handle(self):
        self.wfile.write(b"220 sink\r\n")
        data = None
        for raw in self.rfile:
            line = raw.decode().rstrip("\r\n")
            if data is not None:
                if line == ".":
                    type(self).mails.append(data)
                    data = None
                    self.wfile.write(b"250 kept\r\n")
                else:
                    data += line + "\n"
                continue
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == "DATA":
                data = ""
                self.wfile.write(b"354 go on\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp():
    Smtp.mails = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Smtp)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_a_rule_fires_into_a_signed_webhook(webhook):
    eng = fresh()
    added = eng.add_notifier("ops", webhook=webhook, secret="s3cret", retries=2, backoff="10ms")
    assert added["spec"]["secret"] == "***"
    rule = eng.add_alert_rule("many orders", kpi="order_count", grain="month", when="above", warning=1, critical=2)
    assert (rule["when"], rule["kpi"]) == ("above", "order_count")
    assert until(lambda: len(Receiver.requests) == 2), Receiver.requests
    headers, body = Receiver.requests[1]
    stamp, signature = headers["X-KPI-Signature"].removeprefix("t=").split(",v1=")
    expected = hmac.new(b"s3cret", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    event = json.loads(body)
    assert (event["event"], event["level"], event["rule"]) == ("fired", "critical", "many orders")
    active = eng.alerts()
    assert active[0]["level"] == "critical" and active[0]["rule"] == "many orders"
    assert eng.alert_history()[0]["event"] == "fired"
    assert until(lambda: eng.notifiers()[0]["delivered"] == 1)
    assert eng.notifiers()[0]["attempts"] == 2
    assert eng.alert_rules()[0]["active"] == 1
    assert eng.remove_alert_rule("many orders") and eng.alerts() == []


def test_source_rules_and_a_dict_rule(engine):
    rule = engine.add_alert_rule({"name": "orders stale", "when": "source_stale", "source": "orders", "after": "1h", "for": "5min"})
    assert rule["source"] == "orders" and rule["for"] == "5min"
    assert engine.remove_alert_rule("orders stale")


def test_a_mail_notifier_and_a_mailed_report(smtp):
    eng = fresh()
    eng.set_mail("127.0.0.1", smtp, "KPI Engine <kpi@example.com>", tls="none")
    eng.add_notifier("mail", email=["ops@example.com"], min_level="critical")
    eng.add_alert_rule("orders", kpi="order_count", grain="month", when="above", critical=1)
    assert until(lambda: len(Smtp.mails) >= 1)
    assert "Subject: [KPI critical] orders" in Smtp.mails[0]
    report = eng.add_report("Weekly PDF", ["revenue"], grain="week", range={"start": "2024-01-01", "end": "2024-02-01"},
                            recipients=["lead@example.com"])
    run, document = eng.run_report(report["id"])
    assert run["ok"] and run["delivered_to"] == ["lead@example.com"], run
    assert document.content_type == "application/pdf" and document.data.startswith(b"%PDF")
    assert until(lambda: any("application/pdf" in m for m in Smtp.mails))
    assert eng.report(report["id"])["runs"] == 1
    assert len(eng.report_runs(report["id"])) == 1


def test_reports_carry_the_engines_numbers(engine, tmp_path):
    doc = engine.render_report("Q1", ["revenue", "order_count"], grain="month", by=["orders.region"],
                               range={"start": "2024-01-01", "end": "2024-04-01"}, format="csv")
    assert (doc.content_type, doc.filename) == ("text/csv", "q1-2024-01-01.csv")
    lines = doc.data.decode().splitlines()
    assert lines[0] == "kpi,name,period,orders.region,value,status"
    result = engine.calculate("revenue", grain="month", by=["orders.region"], start="2024-01-01", end="2024-04-01").to_pyarrow().to_pylist()
    revenue = [l.split(",") for l in lines if l.startswith("revenue,")]
    assert len(revenue) == len(result)
    for fields, row in zip(revenue, result):
        assert fields[3] == row["orders.region"] and float(fields[4]) == pytest.approx(row["value"], abs=0)
    as_json = json.loads(engine.render_report("Q1", ["revenue"], grain="month", range={"start": "2024-01-01", "end": "2024-04-01"}, format="json").data)
    assert as_json["kpis"][0]["kpi"] == "revenue" and len(as_json["kpis"][0]["rows"]) == 3
    pdf = engine.render_report("Q1 review", ["revenue", "perfect_order_rate"], grain="week", by=["orders.region"],
                               range={"start": "2024-01-01", "end": "2024-04-01"}, timezone="Europe/Berlin")
    assert pdf.content_type == "application/pdf"
    if shutil.which("pdftotext"):
        path = tmp_path / pdf.filename
        path.write_bytes(pdf.data)
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
        assert "Q1 review" in text and "Perfect Order Fulfillment (perfect_order_rate)" in text
        assert "Period: 2024-01-01 – 2024-03-31 (Europe/Berlin)" in text


def test_bad_rules_and_reports_are_query_errors(engine):
    with pytest.raises(ke.QueryError, match="contradicting thresholds") as e:
        engine.add_alert_rule("x", kpi="revenue", when="above", warning=10, critical=5)
    assert e.value.code == "KPI_ALERT"
    with pytest.raises(ke.CatalogError):
        engine.add_alert_rule("x", kpi="revenu")
    with pytest.raises(ke.QueryError, match="unknown field `colour`"):
        engine.add_alert_rule("x", kpi="revenue", colour="red")
    with pytest.raises(ke.QueryError, match="set_mail"):
        fresh().add_notifier("m", email=["ops@example.com"])
    with pytest.raises(ke.QueryError, match="more than a report may name") as e:
        engine.add_report("big", [f"k{i}" for i in range(10_000)])
    assert e.value.code == "KPI_REPORT"
    with pytest.raises(ke.QueryError, match="not a cron schedule"):
        engine.add_report("r", ["revenue"], schedule="0 7 * * funday")
    with pytest.raises(ke.QueryError, match="Mars/Olympus"):
        engine.add_report("r", ["revenue"], timezone="Mars/Olympus")
    with pytest.raises(ke.QueryError):
        engine.run_report(12345)
    with pytest.raises(ke.QueryError, match="mail address"):
        engine.set_mail("127.0.0.1", 25, "not an address")
