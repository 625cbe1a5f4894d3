"""What every HTTP client trusts: CA bundles, the OS trust store, proxies, the User-Agent."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme
import truststore

from dlg_bib import __version__
from dlg_bib.errors import DlgBibError
from dlg_bib.transport import Proxies, ca_bundles, ssl_context, user_agent


def test_user_agent_names_the_project_its_version_and_the_notes() -> None:
    agent = user_agent("link check", "mailto:dlg@example.org")
    assert agent == (
        f"dlg-bib/{__version__} (https://github.com/dr-aheydari/DeepLearningGroup; "
        "link check; mailto:dlg@example.org)"
    )


def test_ca_bundles_come_from_either_variable_empty_ones_ignored() -> None:
    assert ca_bundles({}) == {}
    assert ca_bundles({"SSL_CERT_FILE": " ", "REQUESTS_CA_BUNDLE": "/b.pem"}) == {
        "REQUESTS_CA_BUNDLE": "/b.pem"
    }


def test_without_a_named_bundle_the_os_trust_store_is_used() -> None:
    assert isinstance(ssl_context({}), truststore.SSLContext)


def test_a_named_bundle_is_loaded_and_both_are_trusted(tmp_path: Path) -> None:
    first, second = tmp_path / "a.pem", tmp_path / "b.pem"
    trustme.CA().cert_pem.write_to_path(str(first))
    trustme.CA().cert_pem.write_to_path(str(second))
    one = ssl_context({"SSL_CERT_FILE": str(first)})
    both = ssl_context({"SSL_CERT_FILE": str(first), "REQUESTS_CA_BUNDLE": str(second)})
    assert one.cert_store_stats()["x509_ca"] == 1
    assert both.cert_store_stats()["x509_ca"] == 2
    assert one.verify_mode == ssl.CERT_REQUIRED and one.check_hostname


def test_a_missing_bundle_raises_instead_of_trusting_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(
        DlgBibError, match=f"cannot use the CA bundle \\(REQUESTS_CA_BUNDLE={missing}\\)"
    ):
        ssl_context({"REQUESTS_CA_BUNDLE": str(missing)})


def test_proxies_are_read_from_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("http_proxy", "http://user:pw@proxy.example:8080")
    monkeypatch.setenv("NO_PROXY", "localhost,.uni.example")
    proxies = Proxies.from_environment()
    monkeypatch.delenv("HTTPS_PROXY")  # later changes do not matter within a run
    assert proxies.for_url("https://doi.org/10.1/x") == "http://proxy.example:3128"
    assert proxies.for_url("http://arxiv.org/abs/1") == "http://user:pw@proxy.example:8080"
    assert proxies.for_url("http://localhost:8000/") is None
    assert proxies.for_url("https://library.uni.example/paper") is None
    assert proxies.for_url("ftp://files.example/") is None


def test_no_proxy_star_bypasses_every_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "*")
    assert Proxies.from_environment().for_url("http://example.org/") is None


def test_no_proxies_means_direct_connections() -> None:
    assert Proxies().for_url("https://example.org/") is None
