// A relying party of latchkey's OpenID provider, written with openid-client
// (the library, unchanged), driven by internal/app/e2e_provider_node_test.go:
//   node rp.mjs start            → discovery; the authorization URL with PKCE, state and nonce
//   node rp.mjs finish '<json>'  → the code exchange (iss, state, PKCE and ID token checked by the
//                                   library), userinfo, and the end-session URL
// Settings come from the environment: ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, POST_LOGOUT.
import * as client from 'openid-client';

const env = process.env;
const config = await client.discovery(new URL(env.ISSUER), env.CLIENT_ID, env.CLIENT_SECRET, undefined, {
  execute: [client.allowInsecureRequests], // the test server speaks plain HTTP on loopback
});

const [step, arg] = process.argv.slice(2);
if (step === 'start') {
  const code_verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: env.REDIRECT_URI,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(code_verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  console.log(JSON.stringify({ url: url.href, code_verifier, state, nonce }));
} else if (step === 'finish') {
  const { callback, code_verifier, state, nonce } = JSON.parse(arg);
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: code_verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const logout = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: env.POST_LOGOUT,
    state: 'bye',
  });
  console.log(JSON.stringify({ claims, userinfo, logout: logout.href, access_token: tokens.access_token }));
} else {
  console.error('usage: node rp.mjs start | finish <json>');
  process.exit(2);
}
