import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPlumbError } from './errors.ts';
import { compareVersions, nextPatch, parseModelRef } from './refs.ts';

test('semver precedence follows the spec', () => {
  const ordered = [
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.0.1',
    '1.10.0',
    '2.0.0',
  ];
  for (let i = 1; i < ordered.length; i++)
    assert.ok(compareVersions(ordered[i - 1]!, ordered[i]!) < 0, ordered[i]);
  assert.equal(nextPatch('1.2.3'), '1.2.4');
  assert.equal(nextPatch('1.3.0-rc.1'), '1.3.0');
});

test('model references: name, name@version, CID; bad ones refused', () => {
  assert.deepEqual(parseModelRef('acme/mlp'), { kind: 'name', repo: 'acme/mlp', version: undefined });
  assert.deepEqual(parseModelRef('acme/mlp@1.0.0'), { kind: 'name', repo: 'acme/mlp', version: '1.0.0' });
  const cid = 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4';
  assert.deepEqual(parseModelRef(cid), { kind: 'cid', cid });
  for (const bad of ['', 'mlp', 'acme/mlp@v1', '../x/y', 'a/b/c'])
    assert.throws(
      () => parseModelRef(bad),
      (e: unknown) => isPlumbError(e, 'INVALID_ARGUMENT'),
      bad,
    );
});
