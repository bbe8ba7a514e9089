"""latchkey credentials for a Flask API.

    from flask import Flask, g
    from latchkey_auth import LatchkeyAuth, require_auth, require_role

    app = Flask(__name__)
    LatchkeyAuth(app)                 # settings from app.config or the environment

    @app.get("/api/me")
    @require_auth
    def me():
        return {"user_id": g.auth.user_id}

    @app.get("/api/admin")
    @require_role("admin")
    def admin():
        return {"ok": True}

Access tokens are verified locally with PyJWT against latchkey's JWKS: the
signature with the key the token's kid names and only that key's algorithm
(ES256, EdDSA or RS256, the algorithms latchkey signs with), the header
typ at+jwt (RFC 9068), iss exactly, aud, exp (with a small leeway), nbf, iat.
API keys (lk_...) are checked by asking latchkey (RFC 7662 introspection,
POST /v1/introspect) with this API's own key, which must hold the scope
introspect; answers are cached for LATCHKEY_API_KEY_CACHE_SECONDS, so a
revoked key is refused at the latest that long after its revocation.

Refusals are RFC 9457 problem documents shaped like latchkey's own
(type, title, status, code, detail), with WWW-Authenticate: Bearer on 401.
Tokens and keys are never logged.

Settings (app.config first, then the environment):
  LATCHKEY_ISSUER                 latchkey's issuer, exactly as in the tokens' iss
                                  (default http://127.0.0.1:8080)
  LATCHKEY_AUDIENCE               required aud (default latchkey)
  LATCHKEY_LEEWAY_SECONDS         clock skew allowed on exp, nbf and iat (default 5)
  LATCHKEY_INTROSPECTION_KEY      this API's latchkey key with the scope introspect;
                                  without it, API keys are refused
  LATCHKEY_API_KEY_CACHE_SECONDS  how long an introspection answer is reused
                                  (default 10; 0 asks latchkey on every request)
"""

import dataclasses
import hashlib
import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from functools import wraps
from http import HTTPStatus

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from flask import current_app, g, request

log = logging.getLogger("latchkey")

# The algorithms latchkey can sign with (--signing-alg). HMAC and "none" are
# never accepted.
ALGORITHMS = ("ES256", "EdDSA", "RS256")

# An API key: "lk_" and 49 base62 characters. Anything else is refused
# without asking latchkey.
API_KEY = re.compile(r"lk_[0-9A-Za-z]{49}")

# latchkey's own caps: longer tokens are refused before any parsing.
MAX_TOKEN_LENGTH = 8 << 10
MAX_INTROSPECTION_ANSWER = 64 << 10
API_KEY_CACHE_ENTRIES = 4096


@dataclasses.dataclass(frozen=True)
class Identity:
    """The caller of a request, in g.auth."""

    kind: str  # "access_token" or "api_key"
    user_id: str
    roles: tuple = ()
    scopes: tuple = ()  # empty: unscoped, the owner's every right
    session_id: str = None  # access tokens
    api_key_id: str = None  # API keys

    def has_role(self, role):
        return role in self.roles

    def as_dict(self):
        d = dataclasses.asdict(self)
        d["roles"], d["scopes"] = list(self.roles), list(self.scopes)
        return {k: v for k, v in d.items() if v is not None}


class Refusal(Exception):
    """A refused request: the problem document it gets. reason is for the
    log only, never for the client."""

    def __init__(self, status, code, detail, challenge=None, reason=None):
        super().__init__(f"{code}: {reason or detail}")
        self.status, self.code, self.detail, self.challenge = status, code, detail, challenge


def token_required(reason=None):
    return Refusal(401, "token_required", "An access token or API key is required.", 'Bearer realm="api"', reason)


def invalid_token(reason):
    return Refusal(401, "invalid_token", "The access token is invalid.", 'Bearer realm="api", error="invalid_token"', reason)


def token_expired(reason):
    return Refusal(401, "token_expired", "The access token has expired.", 'Bearer realm="api", error="invalid_token"', reason)


def invalid_api_key(reason):
    return Refusal(401, "invalid_api_key", "The API key is invalid.", 'Bearer realm="api", error="invalid_token"', reason)


def unavailable(reason):
    return Refusal(503, "unavailable", "Credentials cannot be checked right now; try again.", None, reason)


def problem(status, code, detail, challenge=None):
    """An RFC 9457 problem document, shaped like latchkey's errors."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "code": code, "detail": detail}
    resp = current_app.response_class(json.dumps(body, separators=(",", ":")), status=status, mimetype="application/problem+json")
    resp.headers["Cache-Control"] = "no-store"
    if challenge:
        resp.headers["WWW-Authenticate"] = challenge
    if status == 503:
        resp.headers["Retry-After"] = "1"
    return resp


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: the introspection request carries this API's
    key, which must go to latchkey and nowhere else."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class JWKSUnavailable(jwt.PyJWKClientError):
    """The JWKS could not be fetched or read."""


def key_algorithm(key):
    """The one algorithm a public key verifies with, told by the key itself
    (never by the token): so an EC key can never verify an HS256 or RS256
    token."""
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        return "ES256"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return "RS256"
    return None


class LatchkeyJWKS(jwt.PyJWKClient):
    """PyJWKClient with a timeout, a cache that a failed fetch does not
    empty, and at most one refetch per cooldown for kids it does not know
    (so a flood of tokens with made-up kids cannot make it hammer latchkey).
    The URL is configuration; nothing in a token can name another."""

    def __init__(self, uri, lifespan=600, cooldown=30, timeout=5):
        super().__init__(uri, cache_keys=False, cache_jwk_set=True, lifespan=lifespan)
        self._timeout = timeout
        self._cooldown = cooldown
        self._last_refresh = None
        self._refresh_lock = threading.Lock()

    def fetch_data(self):
        req = urllib.request.Request(self.uri, headers={"Accept": "application/json"})
        try:
            with _opener.open(req, timeout=self._timeout) as resp:
                data = json.loads(resp.read(1 << 20))
        except (OSError, ValueError) as e:  # URLError and HTTPError are OSErrors
            raise JWKSUnavailable(f"fetching {self.uri}: {e}") from e
        if not isinstance(data, dict):
            raise JWKSUnavailable(f"{self.uri} did not return a JSON object")
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(data)
        return data

    def get_signing_key(self, kid):
        try:
            key = self.match_kid(self.get_signing_keys(), kid)
            if key is None and self._may_refresh():
                key = self.match_kid(self.get_signing_keys(refresh=True), kid)
        except jwt.PyJWKSetError as e:
            raise JWKSUnavailable(f"{self.uri}: {e}") from e
        if key is None:
            raise jwt.PyJWKClientError("no key in the JWKS has the token's kid")
        return key

    def _may_refresh(self):
        with self._refresh_lock:
            now = time.monotonic()
            if self._last_refresh is not None and now - self._last_refresh < self._cooldown:
                return False
            self._last_refresh = now
            return True


class LatchkeyAuth:
    """Checks latchkey credentials for one Flask app (app.extensions["latchkey"])."""

    def __init__(self, app=None, **settings):
        self._settings = settings
        if app is not None:
            self.init_app(app)

    def _setting(self, app, name, default):
        if name in self._settings:
            return self._settings[name]
        return app.config.get(name, os.environ.get(name, default))

    def _seconds(self, app, name, default):
        raw = self._setting(app, name, default)
        try:
            n = float(raw)
        except (TypeError, ValueError):
            n = -1
        if not n >= 0 or n == float("inf"):
            raise ValueError(f"{name} must be a number of seconds, 0 or more; got {raw!r}")
        return n

    def init_app(self, app):
        issuer = self._setting(app, "LATCHKEY_ISSUER", "http://127.0.0.1:8080")
        self.issuer = issuer
        self.audience = self._setting(app, "LATCHKEY_AUDIENCE", "latchkey")
        self.leeway = self._seconds(app, "LATCHKEY_LEEWAY_SECONDS", 5)
        self.introspection_key = self._setting(app, "LATCHKEY_INTROSPECTION_KEY", "") or None
        self.api_key_ttl = self._seconds(app, "LATCHKEY_API_KEY_CACHE_SECONDS", 10)
        base = issuer.rstrip("/")
        self.jwks = LatchkeyJWKS(base + "/.well-known/jwks.json")
        self.introspection_url = base + "/v1/introspect"
        self._api_keys = {}  # SHA-256 of a key -> (monotonic deadline, Identity or None)
        self._api_keys_lock = threading.Lock()
        if self.introspection_key is None:
            log.warning("LATCHKEY_INTROSPECTION_KEY is not set: API keys will be refused")
        app.extensions["latchkey"] = self

    # --- the credential of a request ---------------------------------------

    def authenticate(self, req):
        """The Identity of req's credential, or a Refusal. Credentials are
        read from headers only: Authorization: Bearer (an access token, or an
        API key told by its lk_ prefix) or X-API-Key."""
        authz = req.headers.get("Authorization")
        api_key = req.headers.get("X-API-Key")
        if authz is not None and api_key is not None:
            raise Refusal(400, "invalid_request", "Send one credential: a bearer token or an API key.",
                          'Bearer realm="api", error="invalid_request"')
        if api_key is not None:
            return self.verify_api_key(api_key.strip())
        if authz is None:
            raise token_required()
        scheme, _, cred = authz.strip().partition(" ")
        cred = cred.strip()
        if scheme.lower() != "bearer" or not cred:
            raise token_required("not a bearer credential")
        if cred.startswith("lk_"):
            return self.verify_api_key(cred)
        return self.verify_token(cred)

    # --- access tokens -----------------------------------------------------

    def verify_token(self, token):
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
            raise invalid_token("not a compact JWS")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as e:
            raise invalid_token(f"header: {e}") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise invalid_token(f"algorithm {str(alg)[:20]!r} is not allowed")
        if not isinstance(kid, str) or not kid or len(kid) > 200:
            raise invalid_token("no usable kid")
        if "crit" in header:
            raise invalid_token("crit header: no extension is understood")
        try:
            signing_key = self.jwks.get_signing_key(kid)
        except JWKSUnavailable as e:
            raise unavailable(f"JWKS: {e}") from None
        except jwt.PyJWKClientError as e:
            raise invalid_token(str(e)) from None
        if key_algorithm(signing_key.key) != alg:
            raise invalid_token(f"the key {kid} does not verify {alg}")
        try:
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=[alg],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            # Raised only after the signature checked out: a genuine token.
            raise token_expired("exp has passed") from None
        except jwt.InvalidIssuerError:
            # The usual set-up mistake (http://localhost:8080 and
            # http://127.0.0.1:8080 are different issuers): name both.
            received = jwt.decode(token, options={"verify_signature": False}).get("iss")
            log.warning("token refused: issuer mismatch: expected %s (LATCHKEY_ISSUER), received %s",
                        json.dumps(self.issuer), json.dumps(received if isinstance(received, str) else "(none)"))
            raise invalid_token("issuer mismatch") from None
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as e:
            raise invalid_token(f"{type(e).__name__}: {e}") from None  # fail closed on anything odd
        # The header is covered by the signature that decode just checked.
        if str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            raise invalid_token("typ is not at+jwt")
        if claims.get("iss") != self.issuer:  # exact, whatever the PyJWT version
            raise invalid_token("issuer mismatch")
        sub, roles, scope = claims.get("sub"), claims.get("roles", []), claims.get("scope", "")
        if not isinstance(sub, str) or not sub or not _strings(roles) or not isinstance(scope, str):
            raise invalid_token("sub, roles or scope of the wrong type")
        sid = claims.get("sid")
        return Identity(kind="access_token", user_id=sub, roles=tuple(roles), scopes=tuple(scope.split()),
                        session_id=sid if isinstance(sid, str) else None)

    # --- API keys ----------------------------------------------------------

    def verify_api_key(self, key):
        """Asks latchkey about key, reusing an answer (active or not) for
        LATCHKEY_API_KEY_CACHE_SECONDS. The cache is keyed by the key's
        SHA-256, never the key."""
        if self.introspection_key is None:
            raise invalid_api_key("API keys are not accepted: LATCHKEY_INTROSPECTION_KEY is not set")
        if not API_KEY.fullmatch(key):
            raise invalid_api_key("malformed API key")
        digest = hashlib.sha256(key.encode()).digest()
        now = time.monotonic()
        with self._api_keys_lock:
            hit = self._api_keys.get(digest)
        if hit is not None and now < hit[0]:
            identity = hit[1]
        else:
            identity, deadline = self._introspect(key, now)
            if self.api_key_ttl > 0:
                self._remember(digest, deadline, identity, now)
        if identity is None:
            raise invalid_api_key("inactive API key")
        return identity

    def _introspect(self, key, now):
        body = urllib.parse.urlencode({"token": key}).encode()
        req = urllib.request.Request(self.introspection_url, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "X-API-Key": self.introspection_key,
        })
        try:
            with _opener.open(req, timeout=5) as resp:
                answer = json.loads(resp.read(MAX_INTROSPECTION_ANSWER))
        except urllib.error.HTTPError as e:
            # 401/403: this API's own key is revoked or lacks the scope introspect.
            log.warning("introspection refused with status %d: does LATCHKEY_INTROSPECTION_KEY hold the scope introspect?", e.code)
            raise unavailable(f"introspection status {e.code}") from None
        except (OSError, ValueError) as e:
            log.warning("introspection at %s failed: %s", self.introspection_url, e)  # the key is in the body, never here
            raise unavailable("introspection failed") from None
        deadline = now + self.api_key_ttl
        if not isinstance(answer, dict) or answer.get("active") is not True or answer.get("token_type") != "api_key":
            return None, deadline
        sub, roles, scope, exp = answer.get("sub"), answer.get("roles", []), answer.get("scope", ""), answer.get("exp")
        if not isinstance(sub, str) or not sub or not _strings(roles) or not isinstance(scope, str):
            return None, deadline
        if exp is not None:
            if not isinstance(exp, (int, float)) or exp <= time.time():
                return None, deadline
            deadline = min(deadline, now + (exp - time.time()))  # never cached past the key's expiry
        key_id = answer.get("api_key_id")
        return Identity(kind="api_key", user_id=sub, roles=tuple(roles), scopes=tuple(scope.split()),
                        api_key_id=key_id if isinstance(key_id, str) else None), deadline

    def _remember(self, digest, deadline, identity, now):
        with self._api_keys_lock:
            if len(self._api_keys) >= API_KEY_CACHE_ENTRIES:
                for d in [d for d, (until, _) in self._api_keys.items() if until <= now]:
                    del self._api_keys[d]
                while len(self._api_keys) >= API_KEY_CACHE_ENTRIES:
                    del self._api_keys[next(iter(self._api_keys))]  # the oldest
            self._api_keys[digest] = (deadline, identity)


def _strings(v):
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _authenticated():
    """Puts the caller in g.auth, or returns the problem response."""
    try:
        g.auth = current_app.extensions["latchkey"].authenticate(request)
    except Refusal as r:
        log.info("request refused: %s", r)
        return problem(r.status, r.code, r.detail, r.challenge)
    return None


def require_auth(view):
    """Lets through callers with a valid access token or API key (g.auth)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        refused = _authenticated()
        return refused if refused is not None else view(*args, **kwargs)

    return wrapper


def require_role(role):
    """Lets through only authenticated callers with role: 401 without valid
    credentials, 403 without the role. An API key has its owner's roles as
    they are now (introspection); an access token, those it was issued with."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            refused = _authenticated()
            if refused is not None:
                return refused
            if not g.auth.has_role(role):
                log.info("request refused: forbidden: role %s missing", role)
                return problem(403, "forbidden", "You are not allowed to do this.",
                               'Bearer realm="api", error="insufficient_scope"')
            return view(*args, **kwargs)

        return wrapper

    return decorator
