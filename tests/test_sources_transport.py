"""enrich trusts what check-links trusts (dlg_bib/transport.py): the CA bundles named by
SSL_CERT_FILE and REQUESTS_CA_BUNDLE, the proxy variables read once with NO_PROXY, and one
cache folder. End to end through the installed script against loopback servers."""

from __future__ import annotations

import os
import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from dlg_bib import transport
from dlg_bib.enrich import setup
from dlg_bib.links.cache import LinkCache
from dlg_bib.sources.http import DiskCache, Mode
from tests.conftest import FIXTURES, run_cli
from tests.fault_server import Answer, FaultServer, serving
from tests.proxy_server import ProxyServer
from tests.sources_support import crossref_body

KEY = "sadasivan2012methylphenidate"
WORK = Answer(
    200, crossref_body("work_journal_article_plos.json"), {"Content-Type": "application/json"}
)
TRUST_AND_PROXY = (
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    *(f"{name}_proxy" for name in ("http", "https", "all", "no")),
    *(f"{name}_PROXY" for name in ("HTTP", "HTTPS", "ALL", "NO")),
)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "enrich", tmp_path / "bib")
    return tmp_path / "bib"


def env_for(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without its trust, proxy and dlg-bib settings, plus these."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DLG_BIB_") and k not in TRUST_AND_PROXY
    }
    env["DLG_BIB_CACHE_DIR"] = str(tmp_path / "cache")
    env.update(settings)
    return env


def enrich(database: Path, env: dict[str, str]) -> tuple[int, str]:
    result = run_cli(
        "--bib", str(database), "enrich", "--dry-run", "--source", "crossref", KEY, env=env
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout + result.stderr


def enriched(output: str) -> bool:
    # The PLOS record gives the entry its page number; a dry run prints the change.
    return "e33693" in output


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def tls_crossref(ca: trustme.CA) -> Iterator[FaultServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "crossref.invalid").configure_cert(context)
    with serving(WORK, tls=context) as server:
        yield server


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_enrich_trusts_a_tls_server_through_the_named_ca_bundle(
    tmp_path: Path, database: Path, tls_crossref: FaultServer, ca_file: str, variable: str
) -> None:
    env = env_for(tmp_path, DLG_BIB_CROSSREF_API=tls_crossref.url, **{variable: ca_file})
    code, output = enrich(database, env)
    assert code == 0, output
    assert enriched(output), output
    assert tls_crossref.total == 1


def test_enrich_rejects_a_tls_server_no_trusted_ca_vouches_for(
    tmp_path: Path, database: Path, tls_crossref: FaultServer
) -> None:
    # The control: the system's trust store does not know the test CA.
    code, output = enrich(database, env_for(tmp_path, DLG_BIB_CROSSREF_API=tls_crossref.url))
    assert code == 1, output
    assert not enriched(output)
    assert "certificate" in output.lower() or "ssl" in output.lower(), output


def test_an_unreadable_ca_bundle_is_a_usage_error(
    tmp_path: Path, database: Path, tls_crossref: FaultServer
) -> None:
    missing = str(tmp_path / "no-such-ca.pem")
    env = env_for(tmp_path, DLG_BIB_CROSSREF_API=tls_crossref.url, SSL_CERT_FILE=missing)
    code, output = enrich(database, env)
    assert code == 2, output
    assert f"cannot use the CA bundle (SSL_CERT_FILE={missing})" in output
    assert tls_crossref.total == 0


def test_enrich_goes_through_the_proxy_in_the_environment(
    tmp_path: Path, database: Path, tls_crossref: FaultServer, ca_file: str
) -> None:
    # The name resolves only for the proxy (which tunnels to the loopback server): a record
    # that comes back can only have come through it.
    api = f"https://crossref.invalid:{tls_crossref.port}"
    with ProxyServer() as proxy:
        env = env_for(tmp_path, DLG_BIB_CROSSREF_API=api, SSL_CERT_FILE=ca_file)
        env["HTTPS_PROXY"] = proxy.url
        code, output = enrich(database, env)
    assert code == 0, output
    assert enriched(output), output
    assert proxy.requests == [f"CONNECT crossref.invalid:{tls_crossref.port}"]


@pytest.mark.parametrize("bypassed", [True, False])
def test_no_proxy_sends_enrich_straight_to_the_server(
    tmp_path: Path, database: Path, bypassed: bool
) -> None:
    with serving(WORK) as server, ProxyServer() as proxy:
        env = env_for(tmp_path, DLG_BIB_CROSSREF_API=server.url, HTTP_PROXY=proxy.url)
        if bypassed:
            env["NO_PROXY"] = "127.0.0.1"
        code, output = enrich(database, env)
    if bypassed:
        assert (code, proxy.requests, server.total) == (0, [], 1), output
        assert enriched(output), output
    else:
        # The proxy answers plain-HTTP requests itself: not JSON, so Crossref is given up.
        assert code == 1, output
        assert proxy.requests[0].startswith(f"GET {server.url}/works/10.1371/"), proxy.requests
        assert server.total == 0


def test_both_caches_live_in_one_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(transport.CACHE_ENV, raising=False)

    # The caches as built for a run: enrich's answers and check-links' results.
    def folders() -> tuple[Path, Path]:
        answers = setup.make_run(mode=Mode.OFFLINE).client.cache
        assert isinstance(answers, DiskCache)
        return answers.folder, LinkCache().path.parent

    assert folders() == (transport.cache_dir(),) * 2
    monkeypatch.setenv(transport.CACHE_ENV, str(tmp_path / "shared"))
    assert folders() == (tmp_path / "shared",) * 2
