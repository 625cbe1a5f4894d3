"""One HTTP session for every remote source: identification, timeouts, retries, pacing, cache.

Sources (`arxiv`, `crossref`, later dblp/OpenAlex) build requests and parse bodies; this module
decides *when* a request may go out (per-source pacing and concurrency), retries what is
transient (5xx, 429, connection errors, timeouts, bodies a source calls retryable), and keeps
answers on disk so that a second run with nothing new sends nothing.

A dead network must cost seconds, not minutes. Each source endpoint (source and host) is
given up for the rest of the run, and every later request to it refused without being sent,
when it fails with an error that retrying cannot cure (name not resolved, connection refused,
network unreachable, a malformed endpoint), when it fails `TRANSIENT_LIMIT` times in a row
(server errors, timeouts, broken-off answers), or when it asks to wait longer than the run
will. A throttle (429, arXiv's `Rate exceeded.`) is not a failure: the service is up and
says when to come back; it is waited for (within a request's retries), and a request still
throttled after all of them counts as one failure.

Why not urllib3's `Retry`: it retries inside one `urlopen`, so a Retry-After would hold this
request's pacer slot instead of holding off the whole source; it keeps one error count for
throttles and failures alike, hides the attempts the outage rule counts across requests, sees
status and headers but never a body (truncated JSON, arXiv's `Rate exceeded.` with 200), and
sleeps with `time.sleep`, not the run's clock. Why not requests-cache (or hishel): what is
kept is not always an HTTP exchange that happened. arXiv answers a batch of ids and each
record is kept under its own id (the next run may ask another batch), Crossref's search hits
are kept as the answers to their DOI lookups; a request-keyed cache would either miss them
or need a second store beside it.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import random
import re
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError

from dlg_bib import transport
from dlg_bib.errors import SourceError
from dlg_bib.retry_after import parse_retry_after

DEFAULT_TIMEOUT = 30.0
# Connecting takes milliseconds when the network works; a silent (firewalled) network should
# not cost the read timeout on every attempt.
CONNECT_TIMEOUT = 10.0
# Retries of one request: enough to outlast two throttles and two server errors in a row.
DEFAULT_RETRIES = 4
# Failures in a row (server errors, timeouts, broken answers) after which a source endpoint
# is given up for the rest of the run. Three: one blip and a retry are normal, three are not.
TRANSIENT_LIMIT = 3
# The longest Retry-After a source may ask for: beyond it the run gives up on the request
# (reported as unavailable) instead of sleeping for minutes or hours.
DEFAULT_MAX_WAIT = 60.0
# Query parameters that carry credentials (OpenAlex's api_key): never stored, never shown.
SECRET_PARAMS = frozenset({"api_key", "apikey", "api-key", "key", "token", "access_token"})
# Cached answers older than this are fetched again (arXiv adds DOIs, Crossref adds relations).
DEFAULT_MAX_AGE = 30 * 24 * 3600.0
# Headers worth keeping (in the cache and for callers); everything else is dropped.
KEPT_HEADERS = (
    "content-type",
    "retry-after",
    "x-api-pool",
    "x-rate-limit-limit",
    "x-rate-limit-interval",
    "x-concurrency-limit",
)


class Mode(Enum):
    """How the disk cache is used: normally, ignored on read (`--refresh`), or alone."""

    NORMAL = "normal"
    REFRESH = "refresh"
    OFFLINE = "offline"


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass(frozen=True)
class Response:
    """What a source needs of an HTTP answer; also the unit stored in the cache."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    from_cache: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Pacer:
    """Spacing and concurrency for one source.

    Request *starts* are at least `interval` seconds apart and at most `concurrency` requests
    are in flight. A slot's start time is reserved under the lock and slept outside it, so
    concurrent callers queue up in order instead of racing for the same moment.
    """

    def __init__(self, interval: float, concurrency: int = 1, clock: Clock | None = None):
        self.interval = max(0.0, interval)
        self.concurrency = max(1, concurrency)
        self.clock: Clock = clock or SystemClock()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._next_start: float | None = None

    def acquire(self) -> None:
        with self._cond:
            while self._in_flight >= self.concurrency:
                self._cond.wait()
            self._in_flight += 1
            now = self.clock.monotonic()
            start = now if self._next_start is None else max(now, self._next_start)
            self._next_start = start + self.interval
        self.clock.sleep(start - now)

    def release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify()

    def hold_off(self, seconds: float) -> None:
        """No request of this source before `seconds` from now (after a 429 or a 5xx)."""
        with self._cond:
            until = self.clock.monotonic() + seconds
            self._next_start = max(self._next_start or 0.0, until)

    def update(self, interval: float | None = None, concurrency: int | None = None) -> None:
        with self._cond:
            if interval is not None:
                self.interval = max(0.0, interval)
            if concurrency is not None and concurrency != self.concurrency:
                self.concurrency = max(1, concurrency)
                self._cond.notify_all()


# Why an answer must be asked again, or None. A reason starting with THROTTLED is the
# service pacing us, not failing (see the module's rule).
RetryCheck = Callable[[Response], "str | None"]
THROTTLED = "throttled"


@dataclass
class SourcePolicy:
    """Per-source limits: its pacer, the least back-off after a throttle, header adaptation."""

    name: str
    pacer: Pacer
    min_backoff: float = 1.0
    adapt: Callable[[Pacer, Mapping[str, str]], None] | None = None
    # None: the client's retries. dblp and OpenAlex use 0: a throttle means "unavailable".
    retries: int | None = None
    max_wait: float = DEFAULT_MAX_WAIT
    label: str = ""  # the name people know (Crossref); `name` when empty

    @property
    def shown(self) -> str:
        return self.label or self.name


class SourceUnavailable(SourceError):
    """A source endpoint given up for the rest of the run; the message is the same for
    every request refused because of it, so callers can report it once."""

    def __init__(self, outage: Outage):
        hint = (
            "check the network connection (or the DLG_BIB_*_API settings) and run again"
            if outage.unreachable
            else "the service may be overloaded; try again later"
        )
        super().__init__(outage.message, hint=hint + " (cached answers were used)")
        self.outage = outage


@dataclass(frozen=True)
class Outage:
    """Why a source endpoint is given up for this run."""

    source: str  # as people know it: Crossref, arXiv
    endpoint: str  # host[:port]
    cause: str
    unreachable: bool  # True: not reached at all (name, connection); False: failing

    @property
    def message(self) -> str:
        state = "unreachable" if self.unreachable else "unavailable"
        return f"{self.source} {state}: {self.cause}"


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (requests wraps urllib3 wraps socket)."""
    found: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        inner = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        inner.extend(a for a in current.args if isinstance(a, BaseException))
        todo.extend(e for e in inner if isinstance(e, BaseException))
    return found


_UNREACHABLE_ERRNOS = {
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETDOWN: "network down",
    errno.ECONNREFUSED: "connection refused",
}


def unreachable_cause(exc: BaseException) -> str | None:
    """Why the server could not be reached at all, when retrying cannot help: the name does
    not resolve, the connection is refused, the network is unreachable. None otherwise."""
    for inner in _chain(exc):
        if isinstance(inner, NameResolutionError | socket.gaierror):
            return "name not resolved"
    for inner in _chain(exc):
        if isinstance(inner, ConnectionRefusedError):
            return "connection refused"
        if isinstance(inner, OSError) and inner.errno in _UNREACHABLE_ERRNOS:
            return _UNREACHABLE_ERRNOS[inner.errno]
    return None


def endpoint_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1].lower() or url


def scrub_url(url: str) -> str:
    """`url` without credential parameters (`api_key=…`): safe to store, log or show."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.lower() not in SECRET_PARAMS]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


_SECRET_IN_TEXT = re.compile(
    r"(?i)\b(" + "|".join(re.escape(name) for name in sorted(SECRET_PARAMS)) + r")=[^&\s'\"]+"
)


def scrub_text(text: str) -> str:
    """A message that may quote a URL, with credential values replaced by `***`."""
    return _SECRET_IN_TEXT.sub(r"\1=***", text)


class DiskCache:
    """Answers on disk, one JSON file per request key, written atomically."""

    def __init__(self, folder: Path, max_age: float = DEFAULT_MAX_AGE):
        self.folder = folder
        self.max_age = max_age

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        source = key.split(":", 1)[0] if ":" in key else "misc"
        return self.folder / source / digest[:2] / f"{digest}.json"

    def load(self, key: str) -> Response | None:
        path = self._path(key)
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.get("key") != key or time.time() - float(data["stored"]) > self.max_age:
                return None
            return Response(
                status=int(data["status"]),
                body=base64.b64decode(data["body"]),
                headers=dict(data.get("headers", {})),
                url=str(data.get("url", "")),
                from_cache=True,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or damaged: fetch again

    def store(self, key: str, response: Response) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "key": key,
            "stored": time.time(),
            "status": response.status,
            "url": scrub_url(response.url),
            "headers": dict(response.headers),
            "body": base64.b64encode(response.body).decode("ascii"),
        }
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(data), "utf-8")
        os.replace(tmp, path)


def user_agent(contact: str | None) -> str:
    """`dlg-bib/0.1 (https://github.com/…; mailto:…)`: Crossref's polite pool reads the mailto."""
    return transport.user_agent(f"mailto:{contact}") if contact else transport.user_agent()


class TrustAdapter(HTTPAdapter):
    """Verifies servers against the run's TLS context (`transport.ssl_context()`), the one
    check-links uses, instead of requests' certifi bundle.

    requests takes a CA bundle path as `verify=`, not an SSLContext; its documented hook is
    an adapter whose pool managers get `ssl_context`. `cert_verify` would also set certifi's
    bundle as `ca_certs`, which urllib3 then loads *into* our (shared) context: dropped."""

    def __init__(self, context: ssl.SSLContext):
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = self._context
        return super().proxy_manager_for(proxy, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
        if verify is True:
            conn.ca_certs = None
            conn.ca_cert_dir = None


def request_key(source: str, url: str, params: Mapping[str, str] | None = None) -> str:
    """The cache key of a request; credential parameters are left out."""
    kept = {k: v for k, v in (params or {}).items() if k.lower() not in SECRET_PARAMS}
    query = urlencode(sorted(kept.items()))
    return f"{source}:{url}?{query}" if query else f"{source}:{url}"


class HttpClient:
    """The one `requests.Session` of a run, with the cache mode and the request counts."""

    def __init__(
        self,
        *,
        contact: str | None = None,
        cache: DiskCache | None = None,
        mode: Mode = Mode.NORMAL,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        session: requests.Session | None = None,
    ):
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent(contact)
        # The environment is read once, here, as check-links does: requests would look the
        # proxy variables, REQUESTS_CA_BUNDLE and ~/.netrc up again on every request.
        self.session.trust_env = False
        self.proxies = transport.Proxies.from_environment()
        self._trusted = False  # the TLS context is loaded on the first request sent
        self.cache = cache
        self.mode = mode
        self.timeout = timeout
        self.retries = retries
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.requests: Counter[str] = Counter()  # sent over the network, per source
        self._count_lock = threading.Lock()
        # Per (source, endpoint): failures in a row and the request that began them; the
        # outage once given up.
        self._streaks: dict[tuple[str, str], tuple[int, object]] = {}
        self._outages: dict[tuple[str, str], Outage] = {}

    @property
    def outages(self) -> list[Outage]:
        """The source endpoints given up in this run, in the order it happened."""
        with self._count_lock:
            return list(self._outages.values())

    def _refuse_if_down(self, slot: tuple[str, str]) -> None:
        with self._count_lock:
            outage = self._outages.get(slot)
        if outage is not None:
            raise SourceUnavailable(outage)

    def _give_up(
        self, slot: tuple[str, str], policy: SourcePolicy, cause: str, *, unreachable: bool
    ) -> SourceUnavailable:
        with self._count_lock:
            outage = self._outages.setdefault(
                slot, Outage(policy.shown, slot[1], cause, unreachable)
            )
        return SourceUnavailable(outage)

    def _failed(self, slot: tuple[str, str], request: object) -> bool:
        """Count one more failure in a row for this endpoint. True when the endpoint is to
        be given up: TRANSIENT_LIMIT failures in a row, from more than one request (one
        record that always fails, as some DOIs make Crossref answer 500, stops only
        itself)."""
        with self._count_lock:
            count, first = self._streaks.get(slot, (0, request))
            self._streaks[slot] = (count + 1, first)
            return count + 1 >= TRANSIENT_LIMIT and first is not request

    def _answered(self, slot: tuple[str, str]) -> None:
        with self._count_lock:
            self._streaks.pop(slot, None)

    # ---- cache --------------------------------------------------------------------------

    def cached(self, key: str) -> Response | None:
        """The cached answer for `key`, unless `--refresh`; None on a miss."""
        if self.cache is None or self.mode is Mode.REFRESH:
            return None
        return self.cache.load(key)

    def remember(self, key: str, response: Response) -> None:
        """Keep an answer the source has parsed successfully (never a broken one)."""
        if self.cache is not None and not response.from_cache:
            self.cache.store(key, response)

    def ensure_online(self, source: str, what: str) -> None:
        if self.mode is Mode.OFFLINE:
            raise SourceError(
                f"{source}: {what} is not in the cache and --offline was given",
                hint="run once without --offline to fill the cache",
            )

    # ---- requests -----------------------------------------------------------------------

    def get(
        self,
        policy: SourcePolicy,
        url: str,
        params: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        retry_check: RetryCheck | None = None,
        what: str | None = None,
    ) -> Response:
        """GET with pacing and retries. Returns any final answer (2xx, 4xx other than 429);
        raises SourceUnavailable once the endpoint is given up (see the module's rule), and
        SourceError when this request alone outlasts its retries. `what` names the request
        for people (`DOI 10.1145/3457607`) in the offline message."""
        self.ensure_online(policy.name, what or url)
        slot = (policy.name, endpoint_of(url))
        self._refuse_if_down(slot)
        retries = self.retries if policy.retries is None else max(0, policy.retries)
        problem = "no answer"
        throttled = False
        request = object()  # this request, in the endpoint's failure streak
        faults = throttles = 0
        for attempt in range(retries + 1):
            wait: float | None = None
            policy.pacer.acquire()
            try:
                # Another request may have given the endpoint up while this one waited.
                self._refuse_if_down(slot)
                response = self._send(policy, url, params, headers)
            except requests.Timeout:
                problem, throttled = f"timed out after {self.timeout:g} s", False
            except requests.ConnectionError as exc:
                cause = unreachable_cause(exc)
                if cause is not None:
                    where = f"{cause} ({slot[1]})"
                    raise self._give_up(slot, policy, where, unreachable=True) from exc
                problem, throttled = f"connection failed ({type(exc).__name__})", False
            except (
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ):
                problem, throttled = "the answer broke off during transfer", False
            except requests.RequestException as exc:
                # A bad endpoint (no scheme, invalid URL, redirect loop): retrying cannot help.
                cause = f"cannot send the request ({type(exc).__name__}: {scrub_text(str(exc))})"
                raise self._give_up(slot, policy, cause, unreachable=True) from exc
            else:
                if policy.adapt is not None:
                    policy.adapt(policy.pacer, response.headers)
                reason = self._retry_reason(response, retry_check)
                if reason is None:
                    self._answered(slot)
                    return response
                problem = reason
                throttled = reason.startswith(THROTTLED)
                wait = parse_retry_after(response.headers.get("retry-after"))
            finally:
                policy.pacer.release()
            if not throttled:
                faults += 1
                if self._failed(slot, request):
                    cause = f"{problem}, {TRANSIENT_LIMIT} or more times in a row"
                    raise self._give_up(slot, policy, cause, unreachable=False)
            if attempt >= retries or faults >= TRANSIENT_LIMIT:
                break
            if wait is not None and wait > policy.max_wait:
                cause = f"{problem}, asked to wait {wait:g} s (more than {policy.max_wait:g} s)"
                raise self._give_up(slot, policy, cause, unreachable=False)
            # Throttles and failures back off each on their own count: two throttles do not
            # make the first server error wait four times as long.
            throttles += throttled
            step = throttles - 1 if throttled else faults - 1
            policy.pacer.hold_off(self._backoff(policy, step, wait))
        if throttled and self._failed(slot, request):
            cause = f"{problem}, still after {attempt + 1} attempts"
            raise self._give_up(slot, policy, cause, unreachable=False)
        raise SourceError(
            f"{policy.name}: {problem} (gave up after {attempt + 1} attempts)",
            where=scrub_url(url),
            hint="the service may be overloaded; try again later (cached answers are kept)",
        )

    def _send(
        self,
        policy: SourcePolicy,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> Response:
        with self._count_lock:
            self.requests[policy.name] += 1
            if not self._trusted:
                adapter = TrustAdapter(transport.ssl_context())
                self.session.mount("https://", adapter)
                self.session.mount("http://", adapter)
                self._trusted = True
        # Per URL, with check-links' NO_PROXY rule: requests ignores a `no_proxy` entry in
        # the proxies it is given unless it reads the environment itself.
        proxy = self.proxies.for_url(url)
        raw = self.session.get(
            url,
            params=dict(params or {}),
            headers=dict(headers or {}),
            proxies={urlsplit(url).scheme: proxy} if proxy else {},
            timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout),
        )
        kept = {name: raw.headers[name] for name in KEPT_HEADERS if name in raw.headers}
        return Response(
            status=raw.status_code, body=raw.content, headers=kept, url=scrub_url(raw.url)
        )

    @staticmethod
    def _retry_reason(response: Response, retry_check: RetryCheck | None) -> str | None:
        if response.status == 429:
            return f"{THROTTLED} (HTTP 429)"
        if response.status >= 500:
            return f"server error (HTTP {response.status})"
        if retry_check is not None:
            return retry_check(response)
        return None

    def _backoff(self, policy: SourcePolicy, step: int, retry_after: float | None) -> float:
        """Exponential with jitter, never less than the source's minimum or Retry-After."""
        base = policy.min_backoff * float(2**step)
        delay = base + self.rng.uniform(0, policy.min_backoff)
        return max(delay, retry_after or 0.0)
