// An Express API protected by latchkey access tokens and API keys.
//
//   LATCHKEY_ISSUER=http://127.0.0.1:8080 PORT=3000 node server.js
//
// Access tokens are verified locally against latchkey's public keys (JWKS),
// which jose fetches once, caches, and refetches when a token names a key it
// has not seen (rate limited by cooldownDuration). The JWKS URL is fixed
// here: never taken from the token.
//
// API keys (lk_…) are checked by asking latchkey (RFC 7662 introspection,
// POST /v1/introspect) with this API's own key, which holds the scope
// "introspect". Answers are cached for LATCHKEY_API_KEY_CACHE_SECONDS
// (default 10): a revoked key is refused at the latest that long after its
// revocation.
//
// Refusals are RFC 9457 problem documents shaped like latchkey's own, with
// WWW-Authenticate: Bearer on 401. Tokens and keys are never logged.
import { createHash } from 'node:crypto';
import express from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const issuer = process.env.LATCHKEY_ISSUER || 'http://127.0.0.1:8080';
const audience = process.env.LATCHKEY_AUDIENCE || 'latchkey';
const leeway = seconds('LATCHKEY_LEEWAY_SECONDS', 5);
const introspectionKey = process.env.LATCHKEY_INTROSPECTION_KEY || '';
const apiKeyCacheMs = seconds('LATCHKEY_API_KEY_CACHE_SECONDS', 10) * 1000;
const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

const base = issuer.replace(/\/+$/, '');
const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`), {
  cooldownDuration: 30_000, // at most one refetch per 30 s for unknown kids
  cacheMaxAge: 600_000,
  timeoutDuration: 5_000,
});
const introspectionURL = `${base}/v1/introspect`;

// An API key: "lk_" and 49 base62 characters; anything else is refused
// without asking latchkey.
const API_KEY = /^lk_[0-9A-Za-z]{49}$/;
const MAX_TOKEN_LENGTH = 8 << 10;
const API_KEY_CACHE_ENTRIES = 4096;

function seconds(name, fallback) {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`${name} must be a number of seconds, 0 or more; got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

if (!introspectionKey) {
  console.warn('LATCHKEY_INTROSPECTION_KEY is not set: API keys will be refused');
}

// Refusal is a refused request: the problem document it gets. reason is
// for the log only, never for the client.
class Refusal extends Error {
  constructor(status, code, detail, challenge, reason) {
    super(`${code}: ${reason || detail}`);
    Object.assign(this, { status, code, detail, challenge });
  }
}
const titles = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };
const invalidChallenge = 'Bearer realm="api", error="invalid_token"';
const tokenRequired = (reason) =>
  new Refusal(401, 'token_required', 'An access token or API key is required.', 'Bearer realm="api"', reason);
const invalidToken = (reason) => new Refusal(401, 'invalid_token', 'The access token is invalid.', invalidChallenge, reason);
const tokenExpired = (reason) => new Refusal(401, 'token_expired', 'The access token has expired.', invalidChallenge, reason);
const invalidAPIKey = (reason) => new Refusal(401, 'invalid_api_key', 'The API key is invalid.', invalidChallenge, reason);
const unavailable = (reason) =>
  new Refusal(503, 'unavailable', 'Credentials cannot be checked right now; try again.', undefined, reason);

// problem answers with an RFC 9457 problem document shaped like latchkey's.
function problem(res, status, code, detail, challenge) {
  res.set('Cache-Control', 'no-store');
  if (challenge) res.set('WWW-Authenticate', challenge);
  if (status === 503) res.set('Retry-After', '1');
  res.status(status).type('application/problem+json');
  res.send(JSON.stringify({ type: 'about:blank', title: titles[status] || 'Error', status, code, detail }));
}

// authenticate checks the request's one credential, read from headers only
// (Authorization: Bearer — an access token, or an API key told by its lk_
// prefix — or X-API-Key), and puts the caller in req.auth.
async function authenticate(req, res, next) {
  try {
    req.auth = await identify(req);
    return next();
  } catch (err) {
    const r = err instanceof Refusal ? err : unavailable(`unexpected: ${err?.message || err}`);
    console.warn(`request refused: ${r.message}`);
    return problem(res, r.status, r.code, r.detail, r.challenge);
  }
}

async function identify(req) {
  const authz = req.get('authorization');
  const apiKey = req.get('x-api-key');
  if (authz !== undefined && apiKey !== undefined) {
    throw new Refusal(400, 'invalid_request', 'Send one credential: a bearer token or an API key.',
      'Bearer realm="api", error="invalid_request"');
  }
  if (apiKey !== undefined) return verifyAPIKey(apiKey.trim());
  if (authz === undefined) throw tokenRequired();
  const [scheme, ...rest] = authz.trim().split(' ');
  const cred = rest.join(' ').trim();
  if (!/^bearer$/i.test(scheme) || !cred) throw tokenRequired('not a bearer credential');
  return cred.startsWith('lk_') ? verifyAPIKey(cred) : verifyToken(cred);
}

// verifyToken checks the signature (with the key the kid names, and only
// that key's algorithm), iss, aud, exp, nbf, the header typ: at+jwt and the
// algorithm allow-list (the algorithms latchkey can sign with).
async function verifyToken(token) {
  if (token.length > MAX_TOKEN_LENGTH) throw invalidToken('token too long');
  let payload;
  try {
    ({ payload } = await jwtVerify(token, jwks, {
      issuer,
      audience,
      typ: 'at+jwt',
      algorithms: ['ES256', 'EdDSA', 'RS256'],
      requiredClaims: ['exp', 'iat', 'sub'],
      clockTolerance: leeway,
    }));
  } catch (err) {
    throw tokenRefusal(err);
  }
  // jose checks iat only against a maximum age; a token issued in the
  // future (beyond the leeway) is refused here, as latchkey refuses it.
  if (typeof payload.iat !== 'number' || payload.iat > Date.now() / 1000 + leeway) {
    throw invalidToken('iat in the future');
  }
  const roles = payload.roles ?? [];
  const scope = payload.scope ?? '';
  if (typeof payload.sub !== 'string' || !isStrings(roles) || typeof scope !== 'string') {
    throw invalidToken('sub, roles or scope of the wrong type');
  }
  return {
    kind: 'access_token',
    userId: payload.sub,
    sessionId: typeof payload.sid === 'string' ? payload.sid : undefined,
    roles,
    scopes: scope.split(' ').filter(Boolean),
  };
}

// tokenRefusal turns jose's error into the client's answer. An issuer
// mismatch is the usual set-up mistake (http://localhost:8080 and
// http://127.0.0.1:8080 are different issuers), so the log names both.
function tokenRefusal(err) {
  switch (err?.code) {
    case 'ERR_JWT_EXPIRED': // raised only once the signature checked out
      return tokenExpired('exp has passed');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (err.claim === 'iss') {
        const received = typeof err.payload?.iss === 'string' ? err.payload.iss : '(none)';
        console.warn(
          `token refused: issuer mismatch: expected ${JSON.stringify(issuer)} (LATCHKEY_ISSUER), received ${JSON.stringify(received)}`,
        );
      }
      return invalidToken(`${err.code}: ${err.message}`);
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JOSE_GENERIC': // the JWKS answered with something other than 200 and JSON
    case 'ERR_JWKS_INVALID':
      return unavailable(`JWKS: ${err.message}`);
  }
  if (err instanceof TypeError && err.message === 'fetch failed') return unavailable(`JWKS: ${err.cause?.message || err.message}`);
  return invalidToken(`${err?.code || 'error'}: ${err?.message || err}`);
}

// apiKeys caches introspection answers (active or not) by the key's
// SHA-256, never the key: Map of digest -> { until, identity | null }.
const apiKeys = new Map();

async function verifyAPIKey(key) {
  if (!introspectionKey) throw invalidAPIKey('API keys are not accepted: LATCHKEY_INTROSPECTION_KEY is not set');
  if (!API_KEY.test(key)) throw invalidAPIKey('malformed API key');
  const digest = createHash('sha256').update(key).digest('hex');
  const now = Date.now();
  let entry = apiKeys.get(digest);
  if (!entry || now >= entry.until) {
    entry = await introspect(key, now);
    if (apiKeyCacheMs > 0) remember(digest, entry, now);
  }
  if (!entry.identity) throw invalidAPIKey('inactive API key');
  return entry.identity;
}

async function introspect(key, now) {
  let res;
  try {
    res = await fetch(introspectionURL, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
        'X-API-Key': introspectionKey,
      },
      body: new URLSearchParams({ token: key }), // the key travels in the body only
      redirect: 'error', // this API's key goes to latchkey and nowhere else
      signal: AbortSignal.timeout(5_000),
    });
  } catch (err) {
    console.warn(`introspection at ${introspectionURL} failed: ${err?.cause?.message || err?.message}`);
    throw unavailable('introspection failed');
  }
  if (res.status !== 200) {
    // 401/403: this API's own key is revoked or lacks the scope introspect.
    console.warn(`introspection refused with status ${res.status}: does LATCHKEY_INTROSPECTION_KEY hold the scope introspect?`);
    throw unavailable(`introspection status ${res.status}`);
  }
  let ans;
  try {
    ans = await res.json();
  } catch {
    throw unavailable('introspection answer is not JSON');
  }
  let until = now + apiKeyCacheMs;
  const roles = ans?.roles ?? [];
  const scope = ans?.scope ?? '';
  if (ans?.active !== true || ans.token_type !== 'api_key' || typeof ans.sub !== 'string' || !ans.sub ||
      !isStrings(roles) || typeof scope !== 'string') {
    return { until, identity: null };
  }
  if (ans.exp !== undefined) {
    if (typeof ans.exp !== 'number' || ans.exp * 1000 <= Date.now()) return { until, identity: null };
    until = Math.min(until, ans.exp * 1000); // never cached past the key's expiry
  }
  return {
    until,
    identity: {
      kind: 'api_key',
      userId: ans.sub,
      apiKeyId: typeof ans.api_key_id === 'string' ? ans.api_key_id : undefined,
      roles,
      scopes: scope.split(' ').filter(Boolean),
    },
  };
}

function remember(digest, entry, now) {
  if (apiKeys.size >= API_KEY_CACHE_ENTRIES) {
    for (const [d, e] of apiKeys) if (now >= e.until) apiKeys.delete(d);
    for (const d of apiKeys.keys()) {
      if (apiKeys.size < API_KEY_CACHE_ENTRIES) break;
      apiKeys.delete(d); // the oldest first
    }
  }
  apiKeys.delete(digest);
  apiKeys.set(digest, entry);
}

function isStrings(v) {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

// requireRole lets through only authenticated callers with role: 401
// without valid credentials, 403 without the role. An API key has its
// owner's roles as they are now (introspection); an access token, those it
// was issued with.
function requireRole(role) {
  return [
    authenticate,
    (req, res, next) => {
      if (req.auth.roles.includes(role)) return next();
      console.warn(`request refused: forbidden: role ${role} missing`);
      return problem(res, 403, 'forbidden', 'You are not allowed to do this.',
        'Bearer realm="api", error="insufficient_scope"');
    },
  ];
}

const app = express();
app.disable('x-powered-by');

app.get('/healthz', (req, res) => res.json({ status: 'ok' }));
app.get('/api/me', authenticate, (req, res) => res.json(req.auth));
app.get('/api/admin', requireRole('admin'), (req, res) => res.json({ ok: true }));

app.use((req, res) => problem(res, 404, 'not_found', 'There is nothing here.'));

app.listen(port, host, () => {
  console.log(`listening on http://${host}:${port}`);
});
