"""A small fake of Stripe's HTTP API for tests: Checkout Sessions (create, retrieve, list), refunds (create) and
events (list).

It runs ``http.server`` in a thread on 127.0.0.1 and a random port; point the stripe library at ``url`` through
STRIPE_API_BASE. It records every request (with its Idempotency-Key and Stripe-Account headers) and honours
idempotency keys the way Stripe does: the same key returns the first answer. Tests move sessions along
(``complete``, ``expire``) and build events, which they sign with the real algorithm (``sign``).
"""

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

_KEY = re.compile(r"\[([^\]]*)\]")


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``line_items[0][price_data][currency]=eur``) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        head = name.split("[", 1)[0]
        keys = [head, *_KEY.findall(name[len(head) :])]
        node: Any = root
        for key, following in itertools.pairwise(keys):
            container: Any = [] if following.isdigit() else {}
            if isinstance(node, list):
                index = int(key)
                while len(node) <= index:
                    node.append(None)
                if node[index] is None:
                    node[index] = container
                node = node[index]
            else:
                node = node.setdefault(key, container)
        last = keys[-1]
        if isinstance(node, list):
            index = int(last)
            while len(node) <= index:
                node.append(None)
            node[index] = value
        else:
            node[last] = value
    return root


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    stripe_account: str | None


@dataclass
class FakeStripe:
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    # The connected account (Stripe-Account header) each session was created on; None: the platform's.
    accounts: dict[str, str | None] = field(default_factory=dict)
    fail_next: int = 0
    _by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    _params_by_key: dict[str, tuple[dict[str, Any], str | None]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    url: str = ""

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> "FakeStripe":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- what tests do ---------------------------------------------------------------------------------------
    def session_creations(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path == "/v1/checkout/sessions"]

    def complete(
        self,
        session_id: str,
        *,
        payment_status: str = "paid",
        amount_total: int | None = None,
        currency: str | None = None,
    ) -> dict[str, Any]:
        """The buyer finished the checkout: the session is complete (and paid, unless told otherwise)."""
        with self._lock:
            session = self.sessions[session_id]
            session["status"] = "complete"
            session["payment_status"] = payment_status
            session["payment_intent"] = session.get("payment_intent") or f"pi_{session_id}"
            if amount_total is not None:
                session["amount_total"] = amount_total
            if currency is not None:
                session["currency"] = currency
            return dict(session)

    def expire(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self.sessions[session_id]
            session["status"] = "expired"
            return dict(session)

    def event(
        self,
        event_type: str,
        obj: dict[str, Any],
        *,
        event_id: str | None = None,
        account: str | None = None,
        livemode: bool = False,
    ) -> dict[str, Any]:
        """Build an event about ``obj`` as Stripe would send it, and keep it for the events list. ``account``
        makes it an event of that connected account (as the Connect endpoint receives it)."""
        with self._lock:
            event = {
                "id": event_id or f"evt_{next(self._ids):08d}",
                "object": "event",
                "api_version": "2024-06-20",
                "created": int(time.time()),
                "livemode": livemode,
                "pending_webhooks": 1,
                "type": event_type,
                "data": {"object": json.loads(json.dumps(obj))},
            }
            if account is not None:
                event["account"] = account
            self.events.append(event)
            return event

    # --- the HTTP side ---------------------------------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length).decode() if length else ""
        params = decode_form(body if method == "POST" else parts.query)
        recorded = Recorded(
            method=method,
            path=parts.path,
            params=params,
            idempotency_key=request.headers.get("Idempotency-Key"),
            stripe_account=request.headers.get("Stripe-Account"),
        )
        with self._lock:
            self.requests.append(recorded)
            failing = self.fail_next > 0
            if failing:
                self.fail_next -= 1
        if failing:
            self._send(request, 500, {"error": {"type": "api_error", "message": "fake outage"}})
            return
        status, answer = self._route(method, parts.path, params, recorded.idempotency_key, recorded.stripe_account)
        self._send(request, status, answer)

    def _route(
        self, method: str, path: str, params: dict[str, Any], key: str | None, account: str | None
    ) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/checkout/sessions":
            with self._lock:
                if key and key in self._params_by_key and self._params_by_key[key] != (params, account):
                    # As Stripe: a key reused with other parameters is an error, not a replay.
                    message = "Keys for idempotent requests can only be used with the same parameters."
                    return 400, {"error": {"type": "idempotency_error", "message": message}}
                if key and key in self._by_key:
                    return 200, dict(self._by_key[key])
                if key:
                    self._params_by_key[key] = (params, account)
                session = self._new_session(params)
                self.accounts[session["id"]] = account
                if key:
                    self._by_key[key] = session
                return 200, dict(session)
        if method == "POST" and path == "/v1/refunds":
            with self._lock:
                if key and key in self._by_key:
                    return 200, dict(self._by_key[key])
                refund = {
                    "id": f"re_{next(self._ids):08d}",
                    "object": "refund",
                    "amount": int(params.get("amount") or 0),
                    "payment_intent": params.get("payment_intent"),
                    "metadata": params.get("metadata") or {},
                    "status": "succeeded",
                }
                self.refunds.append(refund)
                if key:
                    self._by_key[key] = refund
                return 200, dict(refund)
        if method == "GET" and path == "/v1/checkout/sessions":
            data = list(self.sessions.values())
            return 200, {"object": "list", "url": path, "has_more": False, "data": data}
        if method == "GET" and path.startswith("/v1/checkout/sessions/"):
            session_id = path.rsplit("/", 1)[1]
            # Each account sees only its own sessions, as at Stripe.
            if session_id not in self.sessions or self.accounts.get(session_id) != account:
                return 404, {"error": {"type": "invalid_request_error", "message": f"No such session: {session_id}"}}
            return 200, dict(self.sessions[session_id])
        if method == "GET" and path == "/v1/events":
            wanted = set((params.get("types") or []) + ([params["type"]] if "type" in params else []))
            since = int((params.get("created") or {}).get("gte") or 0)
            data = [
                e
                for e in reversed(self.events)
                if (not wanted or e["type"] in wanted) and e["created"] >= since and e.get("account") == account
            ]
            return 200, {"object": "list", "url": path, "has_more": False, "data": data}
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL {path}"}}

    def _new_session(self, params: dict[str, Any]) -> dict[str, Any]:
        session_id = f"cs_test_{next(self._ids):08d}"
        items = params.get("line_items") or []
        total = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity") or 1) for i in items)
        currency = items[0]["price_data"]["currency"] if items else "eur"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params.get("mode"),
            "amount_total": total,
            "currency": currency,
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata") or {},
            "expires_at": int(params.get("expires_at") or 0),
            "locale": params.get("locale"),
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return session

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, answer: dict[str, Any]) -> None:
        body = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.send_header("Request-Id", "req_fake")
        request.end_headers()
        request.wfile.write(body)


def sign(payload: str, secret: str, *, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for ``payload``, computed with Stripe's real scheme."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
