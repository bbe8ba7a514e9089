// An Express API protected by latchkey access tokens.
//
//   LATCHKEY_ISSUER=http://127.0.0.1:8080 PORT=3000 node server.js
//
// Tokens are verified locally against latchkey's public keys (JWKS), which
// jose fetches once, caches, and refetches when a token names a key it has
// not seen (rate limited by cooldownDuration). The JWKS URL is fixed here:
// never taken from the token.
import express from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const issuer = process.env.LATCHKEY_ISSUER || 'http://127.0.0.1:8080';
const audience = process.env.LATCHKEY_AUDIENCE || 'latchkey';
const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', issuer), {
  cooldownDuration: 30_000, // at most one refetch per 30 s for unknown kids
  cacheMaxAge: 600_000,
});

// authenticate verifies the bearer token and puts the caller in req.auth.
async function authenticate(req, res, next) {
  const header = req.get('authorization') || '';
  const [scheme, token] = header.split(' ');
  if (!/^bearer$/i.test(scheme) || !token) {
    res.set('WWW-Authenticate', 'Bearer realm="api"');
    return res.status(401).json({ error: 'token_required' });
  }
  try {
    const { payload } = await jwtVerify(token, jwks, {
      issuer,
      audience,
      typ: 'at+jwt',
      algorithms: ['ES256', 'EdDSA', 'RS256'],
      requiredClaims: ['exp', 'sub'],
      clockTolerance: 30,
    });
    req.auth = {
      userId: payload.sub,
      sessionId: payload.sid,
      roles: Array.isArray(payload.roles) ? payload.roles : [],
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
    };
    return next();
  } catch (err) {
    logRefusal(err);
    res.set('WWW-Authenticate', 'Bearer realm="api", error="invalid_token"');
    return res.status(401).json({ error: 'invalid_token' });
  }
}

// logRefusal tells the operator why a token was refused; the client only
// learns that it was. The token itself is never logged. An issuer mismatch
// is the usual set-up mistake (http://localhost:8080 and
// http://127.0.0.1:8080 are different issuers), so it names both values.
function logRefusal(err) {
  if (err?.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && err.claim === 'iss') {
    const received = typeof err.payload?.iss === 'string' ? err.payload.iss : '(none)';
    console.warn(
      `token refused: issuer mismatch: expected ${JSON.stringify(issuer)} (LATCHKEY_ISSUER), received ${JSON.stringify(received)}`,
    );
    return;
  }
  console.warn(`token refused: ${err?.code || 'error'}: ${err?.message || err}`);
}

// requireRole answers 403 unless the caller has role.
function requireRole(role) {
  return (req, res, next) =>
    req.auth.roles.includes(role) ? next() : res.status(403).json({ error: 'forbidden' });
}

const app = express();
app.disable('x-powered-by');

app.get('/healthz', (req, res) => res.json({ status: 'ok' }));
app.get('/api/me', authenticate, (req, res) => res.json(req.auth));
app.get('/api/admin', authenticate, requireRole('admin'), (req, res) => res.json({ ok: true }));

app.listen(port, host, () => {
  console.log(`listening on http://${host}:${port}`);
});
