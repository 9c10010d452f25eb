"""A TLS-terminating gRPC proxy (Debian's nginx, `grpc_pass`) in front of the dev server, with
certificates made here: a CA, a server certificate for 127.0.0.1/localhost, a client
certificate, and a second CA nobody trusts.

Missing nginx skips the tests that need it on a developer's machine and fails them when CI
is set: CI installs it (`.ci/run`: apt-get install -y nginx-light).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.ports import distinct_free_ports


def nginx_or_skip() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: CI must install it (apt-get install -y nginx-light)")
        pytest.skip("nginx is missing (apt-get install -y nginx-light)")
    return found


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@dataclass
class Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def make(cls, common: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common))
            .issuer_name(_name(common))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def issue(self, common: str, folder: Path, stem: str, *, server: bool) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        cert = builder.sign(self.key, hashes.SHA256())
        cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, key_path)
        return cert_path, key_path

    def write(self, path: Path) -> Path:
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path


@dataclass
class Certificates:
    ca: Path
    untrusted_ca: Path
    server: tuple[Path, Path]
    client: tuple[Path, Path]
    stranger: tuple[Path, Path]  # a client certificate from the CA nobody trusts

    @classmethod
    def make(cls, folder: Path) -> Certificates:
        ca, other = Authority.make("Amity test CA"), Authority.make("Someone else's CA")
        return cls(
            ca=ca.write(folder / "ca.pem"),
            untrusted_ca=other.write(folder / "other-ca.pem"),
            server=ca.issue("localhost", folder, "server", server=True),
            client=ca.issue("amity-worker", folder, "client", server=False),
            stranger=other.issue("stranger", folder, "stranger", server=False),
        )


CONFIG = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_timeout 600s;
    client_body_timeout 600s;
    grpc_read_timeout 600s;
    grpc_send_timeout 600s;
    server {{
        listen 127.0.0.1:{tls_port} ssl http2;
        ssl_certificate {server_cert};
        ssl_certificate_key {server_key};
        location / {{ grpc_pass grpc://{upstream}; }}
    }}
    server {{
        listen 127.0.0.1:{mtls_port} ssl http2;
        ssl_certificate {server_cert};
        ssl_certificate_key {server_key};
        ssl_client_certificate {ca};
        ssl_verify_client on;
        location / {{ grpc_pass grpc://{upstream}; }}
    }}
}}
"""


@dataclass
class TlsProxy:
    """nginx terminating TLS (tls_port) and mTLS (mtls_port) in front of `upstream`."""

    certs: Certificates
    tls_address: str
    mtls_address: str
    process: subprocess.Popen[bytes]
    folder: Path

    @classmethod
    def start(cls, nginx: str, upstream: str, folder: Path) -> TlsProxy:
        certs = Certificates.make(folder)
        tls_port, mtls_port = distinct_free_ports(2)
        config = folder / "nginx.conf"
        config.write_text(
            CONFIG.format(
                dir=folder,
                user="user root;" if os.geteuid() == 0 else "",
                tls_port=tls_port,
                mtls_port=mtls_port,
                server_cert=certs.server[0],
                server_key=certs.server[1],
                ca=certs.ca,
                upstream=upstream,
            )
        )
        process = subprocess.Popen(
            [nginx, "-p", str(folder), "-c", str(config), "-e", str(folder / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        proxy = cls(certs, f"127.0.0.1:{tls_port}", f"127.0.0.1:{mtls_port}", process, folder)
        deadline = time.monotonic() + 10
        for port in (tls_port, mtls_port):
            while True:
                if process.poll() is not None:
                    err = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"nginx exited: {err}")
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        proxy.stop()
                        raise RuntimeError("nginx did not listen") from None
                    time.sleep(0.05)
        return proxy

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tls_env(self) -> dict[str, str]:
        """Server-side TLS: the client checks the proxy's certificate against our CA."""
        return {
            "TEMPORAL_ADDRESS": self.tls_address,
            "TEMPORAL_TLS": "true",
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(self.certs.ca),
            "TEMPORAL_TLS_SERVER_NAME": "localhost",
        }

    def mtls_env(self) -> dict[str, str]:
        """Mutual TLS: the proxy also checks the client's certificate."""
        return {
            **self.tls_env(),
            "TEMPORAL_ADDRESS": self.mtls_address,
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(self.certs.client[0]),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(self.certs.client[1]),
        }
