// Token renewal from the token's own exp (issue defect 8), against a fake gateway that plays
// the jwt mode: it reads `exp` and `jti` of the unsigned tokens these tests make.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientMaker, fakeJwt, FakeServer, jwtPayload, MemoryStorage, nextEvent, record, within } from './fake.mjs';

const makeClient = clientMaker({ minReconnectDelay: 10, maxReconnectDelay: 100 });

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A fake server that accepts unexpired tokens and answers `token` frames as the gateway does. */
function jwtServer(extraHooks = {}) {
  return new FakeServer({
    hooks: {
      onConnect: (c) => (!c.token || jwtPayload(c.token).exp <= nowSeconds()
        ? { code: 'invalid_token', message: 'token expired' } : null),
      onToken: (frame) => ({ type: 'authenticated', user: 'alice', exp: jwtPayload(frame.token).exp }),
      ...extraHooks,
    },
  }).start();
}

describe('token renewal', () => {
  test('a fresh token is fetched and sent before the current one expires, from its exp', async () => {
    const server = await jwtServer();
    let n = 0;
    const client = makeClient(server, {
      token: () => fakeJwt({ sub: 'alice', exp: nowSeconds() + 3, jti: `t${++n}` }),
      tokenRenewBefore: 2500,
    });
    const authenticated = nextEvent(client, 'authenticated');
    client.connect();
    const conn = await server.nextConnection();
    const frame = await within(conn.next('token'), 4000, 'a token frame before expiry');
    assert.notEqual(jwtPayload(frame.token).jti, jwtPayload(conn.token).jti);
    await within(authenticated, 2000, 'authenticated');
    await server.stop();
  });

  test('a renewal whose token function fails is retried', async () => {
    const server = await jwtServer();
    let n = 0;
    const client = makeClient(server, {
      token: () => {
        n += 1;
        if (n === 2) throw new Error('auth service down');
        return fakeJwt({ sub: 'alice', exp: nowSeconds() + 3, jti: `t${n}` });
      },
      tokenRenewBefore: 2500,
    });
    const errors = record(client, 'error');
    client.connect();
    const conn = await server.nextConnection();
    const frame = await within(conn.next('token'), 4000, 'a token frame despite one failure');
    assert.equal(jwtPayload(frame.token).jti, 't3');
    assert.ok(errors.some((e) => e.code === 'token'), 'the failure was reported');
    await server.stop();
  });

  test('a string token that expired is not a dead client: it waits for refreshToken() and keeps its sends', async () => {
    const server = await jwtServer();
    const storage = new MemoryStorage();
    const exp = nowSeconds() + 2; // at least a second ahead, whatever the fraction of this one
    const client = makeClient(server, { storage, token: fakeJwt({ sub: 'alice', exp, jti: 'short' }) });
    client.connect();
    await within(client.ready(), 5000, 'connected with the short token');
    const needsToken = nextEvent(client, 'error', (e) => e.code === 'invalid_token', 10_000);
    // The gateway closes a session whose token expired with 4001: played once exp has passed.
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    server.closeAll(4001, 'token expired');
    await within(needsToken, 10_000, 'told that a token is needed');
    assert.notEqual(client.state, 'closed');
    const sent = client.send('bob', 'after expiry', { id: 'exp-1' });
    client.refreshToken(fakeJwt({ sub: 'alice', exp: nowSeconds() + 60, jti: 'long' }));
    assert.equal((await within(sent, 5000, 'accepted with the new token')).id, 'exp-1');
    assert.equal(jwtPayload(server.connections.at(-1).token).jti, 'long');
    await server.stop();
  });
});
