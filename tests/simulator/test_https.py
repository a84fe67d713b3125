"""The simulator over HTTPS, with and without mutual TLS (real handshakes, the dev PKI)."""

from __future__ import annotations

import pytest
import requests
from lxml import etree

from adapter.devpki import DevPki
from simulator import Simulator, SimulatorConfig

WSDL_SOAP = "{http://schemas.xmlsoap.org/wsdl/soap/}address"


def test_https_serves_the_wsdl_pointing_at_https(pki: DevPki) -> None:
    """With a server certificate the URLs are https:// and the WSDL names that address."""
    config = SimulatorConfig(tls_cert=pki.server_cert, tls_key=pki.server_key)
    with Simulator(config) as sim:
        assert sim.url.startswith("https://127.0.0.1:")
        response = requests.get(sim.wsdl_url, verify=str(pki.ca_cert), timeout=5)
        assert response.status_code == 200
        address = etree.fromstring(response.content).find(f".//{WSDL_SOAP}")
        assert address is not None
        assert address.get("location") == sim.url


def test_mutual_tls_wants_a_client_certificate_of_its_ca(pki: DevPki) -> None:
    """With client_ca the admin API and SOAP need a client certificate; a refused handshake
    leaves the server serving the next client."""
    config = SimulatorConfig(
        tls_cert=pki.server_cert, tls_key=pki.server_key, client_ca=pki.ca_cert
    )
    with Simulator(config) as sim:
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(sim.admin_url + "health", verify=str(pki.ca_cert), timeout=5)
        ok = requests.get(
            sim.admin_url + "health",
            verify=str(pki.ca_cert),
            cert=(str(pki.facility_cert), str(pki.facility_key)),
            timeout=5,
        )
        assert ok.status_code == 200


def test_a_key_without_a_certificate_is_refused(pki: DevPki) -> None:
    """A half TLS configuration does not silently fall back to plain HTTP."""
    with pytest.raises(ValueError, match="tls_cert"):
        Simulator(SimulatorConfig(tls_key=pki.server_key)).start()
