"""A Flask API protected by latchkey access tokens and API keys.

    LATCHKEY_ISSUER=http://127.0.0.1:8080 PORT=5000 python3 app.py

See README.md; the checks themselves are in latchkey_auth.py.
"""

import logging
import os
import sys

from flask import Flask, g
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from latchkey_auth import LatchkeyAuth, problem, require_auth, require_role

logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s")

app = Flask(__name__)
LatchkeyAuth(app)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/api/me")
@require_auth
def me():
    return g.auth.as_dict()


@app.get("/api/admin")
@require_role("admin")
def admin():
    return {"ok": True}


@app.errorhandler(HTTPException)
def http_error(e):
    """Flask's own errors (404, 405, ...) as problem documents too."""
    code = {404: "not_found", 405: "method_not_allowed"}.get(e.code, "invalid_request" if e.code < 500 else "internal")
    return problem(e.code, code, e.description)


if __name__ == "__main__":
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))
    # Werkzeug's server is fine for trying the example; in production run
    # the app under a WSGI server, e.g. gunicorn -w 4 -b 127.0.0.1:5000 app:app
    server = make_server(host, port, app, threaded=True)
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
