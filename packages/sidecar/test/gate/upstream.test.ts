import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upstreamFor, upstreamHeaders } from '../../src/gate/proxy.js';

const svc = {
  apiUrl: 'http://api:5001',
  webUrl: 'http://web:3000',
  socketIoUrl: 'http://api_websocket:5001',
  pluginDaemonUrl: undefined,
};
const routes: [string, string | undefined][] = [
  ['/console/api/apps', 'http://api:5001'],
  ['/api/chat-messages', 'http://api:5001'],
  ['/v1/chat-messages', 'http://api:5001'],
  ['/files/x/file-preview?sign=1', 'http://api:5001'],
  ['/mcp/server/abc/mcp', 'http://api:5001'],
  ['/triggers/webhook/1', 'http://api:5001'],
  ['/openapi/v1/apps', 'http://api:5001'],
  ['/socket.io/?EIO=4', 'http://api_websocket:5001'],
  ['/e/hook', undefined],
  ['/apps', 'http://web:3000'],
  ['/apis', 'http://web:3000'],
  ['/', 'http://web:3000'],
  ['/signin?message=x', 'http://web:3000'],
];
for (const [uri, want] of routes)
  test(`reverse-proxy routing: ${uri} → ${want ?? 'not routed'}`, () => assert.equal(upstreamFor(uri, svc), want));

test('upstream headers: identity headers gone, XFF from untrusted peers replaced, Authorization dropped on console', () => {
  const h = upstreamHeaders(
    {
      'x-forwarded-for': '6.6.6.6',
      x_forwarded_user: 'root',
      authorization: 'Bearer x',
      cookie: 'dify_sso=abc; access_token=t; __Host-dify_sso_bg=z',
      accept: '*/*',
    },
    {
      peer: '::ffff:10.1.2.3',
      trustedPeer: false,
      publicUrl: 'https://dify.example.com',
      rawUri: '/console/api/apps',
      decision: { allow: true, via: 'session' },
    },
  );
  assert.equal(h['x-forwarded-for'], '10.1.2.3');
  assert.equal(h['x-forwarded-proto'], 'https');
  assert.equal(h['host'], 'dify.example.com');
  assert.equal(h['x_forwarded_user'], undefined);
  assert.equal(h['authorization'], undefined);
  assert.equal(h['cookie'], 'access_token=t');
  const v1 = upstreamHeaders(
    { authorization: 'Bearer app-123' },
    {
      peer: '10.1.2.3',
      trustedPeer: true,
      publicUrl: 'https://d.example',
      rawUri: '/v1/chat-messages',
      decision: { allow: true, via: 'passthrough' },
    },
  );
  assert.equal(v1['authorization'], 'Bearer app-123', 'service API keys pass');
  const m = upstreamHeaders(
    { authorization: 'Bearer idp-jwt', 'x-workspace-id': 'evil' },
    {
      peer: '10.1.2.3',
      trustedPeer: false,
      publicUrl: 'https://d.example',
      rawUri: '/console/api/apps',
      decision: { allow: true, via: 'machine', upstream: { authorization: 'Bearer admin', workspaceId: 'ws' } },
    },
  );
  assert.equal(m['authorization'], 'Bearer admin');
  assert.equal(m['x-workspace-id'], 'ws');
});
