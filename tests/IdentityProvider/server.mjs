// Test identity provider for HarborPortal: a real `oidc-provider` configured to look like
// authentik (see /work/shared/reference/authentik-oidc.md). Started by the C# test fixture
// tests/HarborPortal.Tests/Infrastructure/IdentityProviderFixture.cs; usable by hand too:
//
//   IDP_PORT=9000 IDP_CLIENT_SECRET=... IDP_REDIRECT_URIS=http://127.0.0.1:5000/signin-oidc \
//     node tests/IdentityProvider/server.mjs
//
// Contract: see tests/IdentityProvider/README.md. stdout carries exactly one line, the ready JSON;
// every log line goes to stderr.

import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

// oidc-provider prints its notices with console.info (stdout); keep stdout for the ready line.
console.info = (...args) => console.error(...args);
console.log = (...args) => console.error(...args);

// ---------------------------------------------------------------------------------------------
// Configuration from the environment
// ---------------------------------------------------------------------------------------------

const list = (value) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

const env = {
  port: Number.parseInt(process.env.IDP_PORT ?? '0', 10) || 0,
  slug: process.env.IDP_SLUG || 'harbor-portal',
  clientId: process.env.IDP_CLIENT_ID || 'harbor-portal',
  clientSecret: process.env.IDP_CLIENT_SECRET || 'harbor-portal-test-secret-7bVq2mXc9LpR4tZs8NwKf3HdJy6GaE1u',
  redirectUris: list(process.env.IDP_REDIRECT_URIS),
  postLogoutRedirectUris: list(process.env.IDP_POST_LOGOUT_REDIRECT_URIS),
  backchannelLogoutUri: process.env.IDP_BACKCHANNEL_LOGOUT_URI || undefined,
  signing: (process.env.IDP_SIGNING || 'RS256').toUpperCase(),
};

if (env.signing !== 'RS256' && env.signing !== 'HS256') {
  fail(`IDP_SIGNING must be RS256 or HS256, got ${env.signing}`);
}
if (!/^[a-z0-9][a-z0-9-_]*$/i.test(env.slug) || ['authorize', 'token', 'device', 'userinfo', 'introspect', 'revoke'].includes(env.slug)) {
  fail(`IDP_SLUG ${env.slug} is not a valid (or is a reserved) authentik application slug`);
}
if (env.redirectUris.length === 0) {
  // authentik would trust the first redirect URI it sees (TOFU); a test fixture should not.
  fail('IDP_REDIRECT_URIS must name at least one redirect URI');
}

function fail(message) {
  console.error(`identity provider: ${message}`);
  process.exit(2);
}

const log = (message) => console.error(`[idp] ${message}`);

// ---------------------------------------------------------------------------------------------
// Users (kept in sync with IdentityProviderFixture.Users)
// ---------------------------------------------------------------------------------------------

// sub = authentik's default sub mode "hashed_user_id": SHA-256 hex of the user's id.
const hashedUserId = (pk) => createHash('sha256').update(String(pk), 'utf8').digest('hex');

const USERS = [
  { pk: 1, username: 'akadmin', password: 'admin-pass', groups: ['harbor-portal-admins'], email: 'akadmin@example.test', name: 'Alex Admin' },
  { pk: 2, username: 'sec', password: 'sec-pass', groups: ['harbor-portal-security'], email: 'sec@example.test', name: 'Sam Security' },
  { pk: 3, username: 'dev', password: 'dev-pass', groups: ['harbor-portal-developers', 'team-a'], email: 'dev@example.test', name: 'Dana Developer' },
  { pk: 4, username: 'nogroup', password: 'nogroup-pass', groups: [], email: 'nogroup@example.test', name: 'Nico Nogroup' },
  { pk: 5, username: 'viewer', password: 'viewer-pass', groups: ['harbor-portal-viewers'], email: 'viewer@example.test', name: 'Vera Viewer' },
].map((u) => ({ ...u, sub: hashedUserId(u.pk) }));

const userBySub = new Map(USERS.map((u) => [u.sub, u]));
const userByName = new Map(USERS.map((u) => [u.username, u]));

// The claims authentik's default scope mappings produce (system blueprint, 2025.10+).
function claimsFor(user) {
  return {
    sub: user.sub,
    // scope "profile"
    name: user.name,
    given_name: user.name, // authentik has no first/last split: given_name is the full name
    preferred_username: user.username,
    nickname: user.username,
    groups: [...user.groups], // group NAMES; there is no "groups" scope
    // scope "email"
    email: user.email,
    email_verified: false, // authentik's default since 2025.10
  };
}

// ---------------------------------------------------------------------------------------------
// Storage: a small in-memory adapter we can enumerate (needed by /_test/end-sessions).
// ---------------------------------------------------------------------------------------------

const store = new Map(); // `${model}:${id}` -> { payload, expiresAt }
const sessionUids = new Map(); // uid -> session id

function storeGet(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.payload;
}

class MemoryAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
    store.set(this.key(id), { payload, expiresAt });
    if (this.model === 'Session' && payload.uid) sessionUids.set(payload.uid, id);
  }

  async find(id) { return storeGet(this.key(id)); }

  async findByUid(uid) {
    const id = sessionUids.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode() { return undefined; }

  async consume(id) {
    const payload = storeGet(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    const prefix = `${this.model}:`;
    for (const [key, { payload }] of store) {
      if (key.startsWith(prefix) && payload.grantId === grantId) store.delete(key);
    }
  }
}

// Deletes a grant and every token issued under it (as authentik does when a session is deleted).
function revokeGrantEverywhere(grantId) {
  store.delete(`Grant:${grantId}`);
  for (const [key, { payload }] of store) {
    if (payload.grantId === grantId) store.delete(key);
  }
}

function sessionsOf(sub) {
  const found = [];
  for (const key of [...store.keys()]) {
    if (!key.startsWith('Session:')) continue;
    const payload = storeGet(key);
    if (payload?.accountId === sub) found.push({ key, payload });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

const esc = (value) => String(value ?? '')
  .replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
  .replaceAll('"', '&quot;').replaceAll("'", '&#39;');

const page = (title, body) => `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${esc(title)}</title>
  <style>body{font-family:sans-serif;background:#18191a;color:#eee;display:flex;justify-content:center;padding-top:4rem}
  main{background:#222;padding:2rem 2.5rem;border-radius:6px;min-width:20rem}label{display:block;margin:.8rem 0 .3rem}
  input{width:100%;padding:.5rem;box-sizing:border-box}button{margin-top:1.2rem;width:100%;padding:.6rem;background:#fd4b2d;color:#fff;border:0;border-radius:4px}
  .error{color:#ff8a80}</style>
</head>
<body><main>
${body}
</main></body>
</html>`;

function loginPage({ action, username = '', error }) {
  return page('authentik', `<h1>authentik</h1>
<p>Welcome to authentik! Log in to continue to HarborPortal.</p>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="${esc(action)}">
  <label for="username">Username or Email</label>
  <input id="username" name="username" type="text" autocomplete="username" value="${esc(username)}" autofocus required>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Log in</button>
</form>`);
}

// ---------------------------------------------------------------------------------------------
// Server + provider
// ---------------------------------------------------------------------------------------------

const APP_PREFIX = '/application/o';
const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(env.port, '127.0.0.1', resolve);
});
const { port } = server.address();
const origin = `http://127.0.0.1:${port}`;
const issuer = `${origin}${APP_PREFIX}/${env.slug}/`;

// Keys: RS256 -> a fresh RSA key, served at the per-slug JWKS. HS256 -> no asymmetric key at all:
// the id_token is signed with the client secret (authentik without a signing key) and the JWKS is
// empty ({"keys":[]}).
let jwks = { keys: [] };
if (env.signing === 'RS256') {
  const { privateKey } = await jose.generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  jwk.kid = (await jose.calculateJwkThumbprint(jwk)).slice(0, 16);
  jwk.alg = 'RS256';
  jwk.use = 'sig';
  jwks = { keys: [jwk] };
}

const client = {
  client_id: env.clientId,
  client_secret: env.clientSecret,
  client_name: 'HarborPortal',
  redirect_uris: env.redirectUris,
  post_logout_redirect_uris: env.postLogoutRedirectUris,
  response_types: ['code'],
  grant_types: ['authorization_code', 'refresh_token'],
  // Registered as client_secret_basic; oidc-provider accepts client_secret_post for such a client
  // too (both secret methods are interchangeable in its client_auth), so either works, as in authentik.
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: env.signing,
  ...(env.backchannelLogoutUri ? {
    backchannel_logout_uri: env.backchannelLogoutUri,
    backchannel_logout_session_required: true,
  } : {}),
};

const ACR = 'goauthentik.io/providers/oauth2/default';

const configuration = {
  adapter: MemoryAdapter,
  clients: [client],
  jwks,
  acrValues: [ACR],
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: {
    // authentik puts auth_time, acr and amr in every id_token; as members of the openid scope
    // oidc-provider includes them without a claims parameter.
    openid: ['sub', 'auth_time', 'acr', 'amr'],
    profile: ['name', 'given_name', 'preferred_username', 'nickname', 'groups'],
    email: ['email', 'email_verified'],
    sid: null,
    iss: null,
  },
  // authentik's include_claims_in_id_token = true: scope claims go into the id_token as well.
  conformIdTokenClaims: false,
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    id_token_signed_response_alg: env.signing,
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  enabledJWA: {
    // Discovery's id_token_signing_alg_values_supported then has exactly this one value.
    idTokenSigningAlgValues: [env.signing],
  },
  responseTypes: ['code'],
  pkce: { required: () => true }, // oidc-provider only implements S256
  // authentik's authorize and end-session accept POST. oidc-provider only allows that with
  // SameSite=None cookies (which need `secure`, impossible on plain http), so the request router
  // below turns such a POST into a 303 redirect to the same endpoint with the form as the query.
  enableHttpPostMethods: false,
  routes: {
    // Relative to the mount point /application/o (see the request router below).
    authorization: '/authorize/',
    token: '/token/',
    userinfo: '/userinfo/',
    revocation: '/revoke/',
    introspection: '/introspect/',
    jwks: `/${env.slug}/jwks/`,
    end_session: `/${env.slug}/end-session/`,
  },
  discovery: {
    request_parameter_supported: false,
  },
  cookies: {
    // Ports do not separate cookies, so several fixtures on 127.0.0.1 in one browser would clash
    // without the port in the name. Not `secure`: the provider runs on plain http.
    names: {
      session: `authentik_session_${port}`,
      interaction: `authentik_interaction_${port}`,
      resume: `authentik_resume_${port}`,
    },
    long: { httpOnly: true, sameSite: 'lax', secure: false, signed: true },
    short: { httpOnly: true, sameSite: 'lax', secure: false, signed: true },
    keys: [randomBytes(32).toString('base64url')],
  },
  features: {
    devInteractions: { enabled: false },
    dPoP: { enabled: false },
    resourceIndicators: { enabled: false },
    pushedAuthorizationRequests: { enabled: false },
    claimsParameter: { enabled: false },
    userinfo: { enabled: true },
    revocation: { enabled: true, allowedPolicy: async (ctx, c, token) => token.clientId === c.clientId },
    introspection: { enabled: true, allowedPolicy: async () => true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // authentik logs out at once; oidc-provider wants a confirmation POST. This page posts it
      // by itself (script for browsers; a plain form with hidden inputs for HTTP clients), always
      // with logout=yes so the whole provider session ends, as authentik's invalidation flow does.
      logoutSource: async (ctx, form) => {
        const action = /action="([^"]+)"/.exec(form)?.[1] ?? '';
        const xsrf = /name="xsrf" value="([^"]+)"/.exec(form)?.[1] ?? '';
        ctx.type = 'html';
        ctx.body = page('authentik - logging out', `<h1>authentik</h1>
<p>Logging out...</p>
<form id="op.logoutForm" method="post" action="${esc(action)}">
  <input type="hidden" name="xsrf" value="${esc(xsrf)}">
  <input type="hidden" name="logout" value="yes">
  <noscript><button type="submit">Log out</button></noscript>
</form>
<script>document.getElementById('op.logoutForm').submit();</script>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.type = 'html';
        ctx.body = page('authentik', '<h1>authentik</h1><p>You have been logged out.</p>');
      },
    },
  },
  interactions: {
    url: async (ctx, interaction) => {
      const flow = interaction.prompt.name === 'login'
        ? 'default-authentication-flow'
        : 'default-provider-authorization-implicit-consent';
      return `/if/flow/${flow}/${interaction.uid}/`;
    },
  },
  async findAccount(ctx, sub) {
    const user = userBySub.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() { return claimsFor(user); },
    };
  },
  // authentik's refresh_token_threshold defaults to 0: the refresh token rotates on every use.
  rotateRefreshToken: () => true,
  ttl: {
    AccessToken: 60 * 60,
    AuthorizationCode: 60,
    ClientCredentials: 10 * 60,
    IdToken: 60 * 60,
    Interaction: 60 * 60,
    RefreshToken: 30 * 24 * 60 * 60,
    Session: 14 * 24 * 60 * 60,
    Grant: 30 * 24 * 60 * 60,
    DeviceCode: 10 * 60,
    BackchannelAuthenticationRequest: 10 * 60,
    PreAuthorizedCode: 10 * 60,
  },
  clientBasedCORS: () => false,
  // oidc-provider's outgoing requests (back-channel logout) refuse loopback addresses (SSRF
  // protection via a custom dispatcher); the portal under test listens on 127.0.0.1, so drop it.
  fetch: (url, { dispatcher, ...options }) => globalThis.fetch(url, options),
  async renderError(ctx, out, error) {
    ctx.type = 'html';
    ctx.body = page('authentik - error', `<h1>authentik</h1><h2>Error</h2>
${Object.entries(out).map(([k, v]) => `<p><strong>${esc(k)}</strong>: ${esc(v)}</p>`).join('\n')}`);
    log(`error page: ${out.error}: ${out.error_description ?? ''}${error?.stack && !error.expose ? `\n${error.stack}` : ''}`);
  },
};

const provider = new Provider(issuer, configuration);
provider.proxy = false;

// authentik puts `sid` into every id_token; oidc-provider only does when the client registered a
// back-channel logout URI with session_required (or the claims parameter asks for it).
Object.defineProperty(provider.Client.prototype, 'includeSid', { value() { return true; } });

provider.on('server_error', (ctx, err) => log(`server_error: ${err.stack ?? err}`));
provider.on('backchannel.success', (ctx, c, accountId, sid) => log(`back-channel logout delivered to ${c.backchannelLogoutUri} (sid ${sid})`));
provider.on('backchannel.error', (ctx, err, c, accountId, sid) => log(`back-channel logout to ${c.backchannelLogoutUri} failed (sid ${sid}): ${err.message}`));
provider.on('end_session.success', () => log('RP-initiated logout: provider session ended'));

const providerCallback = provider.callback();

// ---------------------------------------------------------------------------------------------
// Interactions: login form and implicit consent
// ---------------------------------------------------------------------------------------------

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, body, type = 'text/html; charset=utf-8', headers = {}) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

const sendJson = (res, status, value) => send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');

async function grantConsent(req, res, interaction) {
  // Implicit consent (authentik's default-provider-authorization-implicit-consent flow): grant
  // every requested scope, offline_access included, without showing anything.
  const { prompt: { details }, params, session } = interaction;
  const grant = interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (params.scope) grant.addOIDCScope(params.scope);
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: interaction.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
}

async function handleInteraction(req, res, path) {
  let interaction;
  try {
    interaction = await provider.interactionDetails(req, res);
  } catch (err) {
    send(res, 400, page('authentik - error', `<h1>authentik</h1><p>This login request is no longer valid. Go back to the application and try again.</p>`));
    log(`interaction lookup failed: ${err.message}`);
    return;
  }

  if (interaction.prompt.name === 'consent') {
    await grantConsent(req, res, interaction);
    return;
  }

  if (interaction.prompt.name !== 'login') {
    send(res, 400, page('authentik - error', `<h1>authentik</h1><p>Unsupported prompt ${esc(interaction.prompt.name)}</p>`));
    return;
  }

  if (req.method === 'GET' || req.method === 'HEAD') {
    send(res, 200, loginPage({ action: path }));
    return;
  }
  if (req.method !== 'POST') {
    send(res, 405, 'method not allowed', 'text/plain', { allow: 'GET, POST' });
    return;
  }

  const form = await readForm(req);
  const name = (form.get('username') ?? '').trim();
  const user = userByName.get(name) ?? USERS.find((u) => u.email === name);
  if (!user || user.password !== form.get('password')) {
    log(`login failed for "${name}"`);
    send(res, 200, loginPage({ action: path, username: name, error: 'Invalid username or password' }));
    return;
  }
  log(`login ${user.username}`);
  await provider.interactionFinished(req, res, {
    login: { accountId: user.sub, acr: ACR, amr: ['pwd'], remember: true },
  }, { mergeWithLastSubmission: false });
}

// ---------------------------------------------------------------------------------------------
// Test control endpoints
// ---------------------------------------------------------------------------------------------

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

// Signs a logout token exactly as oidc-provider does for RP-initiated logout (same key/alg as the
// client's id_tokens, typ logout+jwt) and posts it; authentik treats only 200 as delivered.
async function sendBackchannelLogout(c, sub, sid) {
  const token = new provider.IdToken({ sub }, { client: c, ctx: undefined });
  token.mask = { sub: null };
  token.set('events', { [BACKCHANNEL_EVENT]: {} });
  token.set('jti', randomBytes(16).toString('hex'));
  token.set('sid', sid);
  const logoutToken = await token.issue({ use: 'logout' });
  try {
    const response = await fetch(c.backchannelLogoutUri, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: logoutToken }),
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer().catch(() => undefined);
    log(`back-channel logout to ${c.backchannelLogoutUri} (sid ${sid}) -> ${response.status}`);
    return response.status;
  } catch (err) {
    log(`back-channel logout to ${c.backchannelLogoutUri} (sid ${sid}) failed: ${err.message}`);
    return 0;
  }
}

async function endSessions(username) {
  const user = userByName.get(username);
  if (!user) return { status: 404, body: { error: `unknown user ${username}` } };

  const sessions = sessionsOf(user.sub);
  const statuses = [];
  for (const { key, payload } of sessions) {
    store.delete(key);
    if (payload.uid) sessionUids.delete(payload.uid);
    for (const [clientId, authorization] of Object.entries(payload.authorizations ?? {})) {
      if (authorization.grantId) revokeGrantEverywhere(authorization.grantId);
      const c = await provider.Client.find(clientId);
      if (c?.backchannelLogoutUri && authorization.sid) {
        statuses.push(await sendBackchannelLogout(c, user.sub, authorization.sid));
      }
    }
  }
  const delivered = statuses.filter((s) => s === 200).length;
  log(`ended ${sessions.length} session(s) of ${username}; back-channel deliveries: ${JSON.stringify(statuses)}`);
  return { status: 200, body: { sessions: sessions.length, delivered, statuses } };
}

// ---------------------------------------------------------------------------------------------
// Request routing
// ---------------------------------------------------------------------------------------------

const slugPrefix = `${APP_PREFIX}/${env.slug}/`;
const flowPath = /^\/if\/flow\/[a-z0-9-]+\/([A-Za-z0-9_-]+)\/$/;

// Hands the request to oidc-provider as if it were mounted at /application/o.
function toProvider(req, res, mountedUrl) {
  req.originalUrl = `${APP_PREFIX}${mountedUrl}`;
  req.url = mountedUrl;
  return providerCallback(req, res);
}

async function route(req, res) {
  const url = new URL(req.url, origin);
  const { pathname } = url;

  if (pathname === '/_test/health') {
    sendJson(res, 200, { ok: true, issuer });
    return;
  }
  if (pathname === '/_test/end-sessions') {
    if (req.method !== 'POST') {
      send(res, 405, 'method not allowed', 'text/plain', { allow: 'POST' });
      return;
    }
    const result = await endSessions(url.searchParams.get('username') ?? '');
    sendJson(res, result.status, result.body);
    return;
  }

  const flow = flowPath.exec(pathname);
  if (flow) {
    await handleInteraction(req, res, pathname);
    return;
  }

  if (pathname === slugPrefix || pathname === slugPrefix.slice(0, -1)) {
    // authentik redirects the bare issuer URL to the discovery document.
    send(res, 302, '', 'text/plain', { location: `${slugPrefix}.well-known/openid-configuration` });
    return;
  }

  if (pathname === `${slugPrefix}.well-known/openid-configuration` || pathname === `${slugPrefix}.well-known/oauth-authorization-server`) {
    // Discovery is per slug; the provider itself is mounted one level up.
    await toProvider(req, res, `${pathname.slice(slugPrefix.length - 1)}${url.search}`);
    return;
  }

  if (pathname.startsWith(`${APP_PREFIX}/`)) {
    const mounted = req.url.slice(APP_PREFIX.length);

    if ((pathname === `${APP_PREFIX}/authorize/` || pathname === `${slugPrefix}end-session/`) && req.method === 'POST') {
      const form = await readForm(req);
      send(res, 303, '', 'text/plain', { location: `${pathname}?${form}` });
      return;
    }

    if (pathname === `${APP_PREFIX}/authorize/` && req.method === 'GET') {
      const { searchParams } = url;
      const scopes = (searchParams.get('scope') ?? '').split(' ');
      // authentik adds prompt=consent when offline_access is asked for (a consent stage is
      // injected); oidc-provider would otherwise drop offline_access. Consent stays implicit here.
      if (scopes.includes('offline_access') && !searchParams.has('prompt')) {
        searchParams.set('prompt', 'consent');
        await toProvider(req, res, `/authorize/?${searchParams}`);
        return;
      }
    }

    if (pathname === `${slugPrefix}end-session/` && req.method === 'GET') {
      const { searchParams } = url;
      // authentik: with post-logout URIs registered, post_logout_redirect_uri requires id_token_hint.
      if (searchParams.has('post_logout_redirect_uri') && !searchParams.has('id_token_hint') && env.postLogoutRedirectUris.length > 0) {
        send(res, 400, page('authentik - error', '<h1>authentik</h1><p>id_token_hint is required when post_logout_redirect_uri is given</p>'));
        return;
      }
    }

    await toProvider(req, res, mounted);
    return;
  }

  send(res, 404, 'not found', 'text/plain');
}

server.on('request', (req, res) => {
  const started = Date.now();
  const { method, url } = req;
  res.on('finish', () => log(`${method} ${url} -> ${res.statusCode} (${Date.now() - started} ms)`));
  route(req, res).catch((err) => {
    log(`unhandled error for ${method} ${url}: ${err.stack ?? err}`);
    if (!res.headersSent) send(res, err instanceof errors.OIDCProviderError ? err.statusCode : 500, 'internal error', 'text/plain');
    else res.destroy();
  });
});

// ---------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------

function shutdown(signal) {
  log(`${signal}: shutting down`);
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

if (process.env.IDP_EXIT_WITH_STDIN === '1') {
  // The fixture keeps our stdin open; if the test host dies, stdin closes and we go too.
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}

process.stdout.write(`${JSON.stringify({ ready: true, port, issuer })}\n`);
