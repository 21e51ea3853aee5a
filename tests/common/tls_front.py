"""A TLS front for a loopback test endpoint.

usage: tls_front.py UPSTREAM_PORT CA_PEM OTHER_CA_PEM

Makes a certificate authority and a certificate for 127.0.0.1 with trustme,
writes the authority's PEM to CA_PEM (and an unrelated authority's to
OTHER_CA_PEM, for a client that must refuse the certificate), prints the
port it listens on, then decrypts every connection and relays it, both
ways, to 127.0.0.1:UPSTREAM_PORT; prints `refused` for each handshake the
client broke off, so that a test can count attempts. One thread per
connection, one select loop per thread: an SSL socket is never read and
written at once.
"""

import select
import socket
import ssl
import sys
import threading

import trustme


def relay(conn, ctx, upstream):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        conn.close()  # the client refused the certificate
        print("refused", flush=True)
        return
    up = socket.create_connection(("127.0.0.1", upstream))
    try:
        while True:
            ready = [tls] if tls.pending() else select.select([tls, up], [], [])[0]
            for src in ready:
                data = src.recv(65536)
                if not data:
                    return
                (up if src is tls else tls).sendall(data)
    except (ssl.SSLError, OSError):
        pass
    finally:
        tls.close()
        up.close()


def main():
    upstream, ca_path, other_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ca = trustme.CA()
    ca.cert_pem.write_to_path(ca_path)
    trustme.CA().cert_pem.write_to_path(other_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    server = socket.create_server(("127.0.0.1", 0))
    print(server.getsockname()[1], flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=relay, args=(conn, ctx, upstream), daemon=True).start()


if __name__ == "__main__":
    main()
