/**
 * The one split of a request target at `?` (RFC 9110 §4.1): path and query.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestPath, splitTarget } from '../../src/node/request-path.js';

void test('splitTarget: the path before the first ?, the query after it, none without ?', () => {
  assert.deepEqual(splitTarget('/ws?token=a?b&c=d'), { path: '/ws', query: 'token=a?b&c=d' });
  assert.deepEqual(splitTarget('/api/topics/x'), { path: '/api/topics/x', query: undefined });
  assert.deepEqual(splitTarget('/ws?'), { path: '/ws', query: '' });
  assert.deepEqual(splitTarget(undefined), { path: '/', query: undefined });
});

void test('requestPath: the path alone, / for a request without a URL', () => {
  assert.equal(requestPath('/poker/ws?token=t'), '/poker/ws');
  assert.equal(requestPath('/auction/lots/7'), '/auction/lots/7');
  assert.equal(requestPath(undefined), '/');
  assert.equal(requestPath('?x=1'), '');
});
