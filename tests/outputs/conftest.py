"""Running "Get the code" as a person would: each snippet, exactly as shown, in its own Python
process, its endpoint named only by the environment variable its library reads (the code itself
targets api.clarifai.com):

- clarifai-grpc: `CLARIFAI_GRPC_BASE` names the local Clarifai server, served over TLS with a
  self-signed certificate that `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` makes gRPC trust;
- the clarifai SDK: `CLARIFAI_API_BASE=http://127.0.0.1:<port>` (the SDK then opens a plaintext channel);
- the OpenAI client: `CLARIFAI_API_BASE` names tests/openai_endpoint.py, in front of the same server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY

SNIPPET_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def self_signed_certificate(tmp_path_factory) -> tuple[Path, Path]:
    """(private key, certificate) for localhost and 127.0.0.1, made with `cryptography`."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    key.write_bytes(
        private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key, cert


@pytest.fixture(scope="session")
def tls_clarifai(clarifai_server, self_signed_certificate):
    """The local Clarifai's servicer (the one `fake_clarifai` resets) served over TLS as well."""
    from tests.fake_clarifai import LocalClarifaiServer

    key, cert = self_signed_certificate
    with LocalClarifaiServer(clarifai_server.servicer, tls=(key.read_bytes(), cert.read_bytes())) as server:
        yield f"localhost:{server.port}", cert


@pytest.fixture(scope="session")
def openai_endpoint(clarifai_server):
    from tests.openai_endpoint import OpenAIEndpoint

    with OpenAIEndpoint(clarifai_server.address) as endpoint:
        yield endpoint


@dataclass
class Ran:
    out: str
    err: str


@pytest.fixture
def run_snippet(clarifai_server, tls_clarifai, openai_endpoint, tmp_path):
    """Runs a snippet as shown, in `cwd` (where its picture file is), for its form ("sdk", "openai",
    "grpc"), with the key in CLARIFAI_PAT; returns what it printed. Fails when it fails."""
    grpc_base, cert = tls_clarifai
    endpoints = {
        "grpc": {"CLARIFAI_GRPC_BASE": grpc_base, "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": str(cert)},
        "sdk": {"CLARIFAI_API_BASE": f"http://{clarifai_server.address}"},
        "openai": {"CLARIFAI_API_BASE": openai_endpoint.base},
    }

    def run(code: str, form: str, cwd: Path | None = None) -> Ran:
        cwd = cwd or tmp_path
        script = cwd / f"snippet_{form}.py"
        script.write_text(code)
        env = {
            name: value for name, value in os.environ.items()
            if not name.startswith(("CLARIFAI_", "GRPC_", "OPENAI_")) and "proxy" not in name.lower()
        }
        env.update({"CLARIFAI_PAT": TEST_KEY, "HOME": str(cwd), "NO_PROXY": "*", **endpoints[form]})
        done = subprocess.run(
            [sys.executable, script.name], cwd=cwd, env=env, capture_output=True, text=True, timeout=SNIPPET_TIMEOUT_S
        )
        assert done.returncode == 0, f"the {form} code failed:\n{done.stderr[-3000:]}"
        return Ran(done.stdout, done.stderr)

    return run
