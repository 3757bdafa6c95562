"""A minimal HTTP server on :8080 (python3-minimal has no http.server)."""
import signal
import socket
import sys
import traceback

# Exit status for "configuration or dependency error at start-up", as gunicorn uses it.
EX_CONFIG_ERROR = 3


def load_monitoring():
    try:
        from app.services.monitoring import health
    except ModuleNotFoundError:
        traceback.print_exc()
        sys.exit(EX_CONFIG_ERROR)
    return health


def serve(health, port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(16)
    print(f"listening on :{port}", file=sys.stderr, flush=True)
    while True:
        conn, _ = srv.accept()
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(4096)
                body = health()
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            except OSError:
                pass


def main(release):
    # PID 1 in its container: without a handler SIGTERM would be ignored and
    # `docker stop` would wait for its timeout, then SIGKILL.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print(f"backend {release} starting", file=sys.stderr, flush=True)
    health = load_monitoring()
    serve(health, 8080)
    return 0
