// Every malformed or hostile contract ends in a typed ContractError that names
// the source, line:column and field — never a raw exception, never a hang.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadContract, parseContract } from '../../../src/kernel/contract/index.js';
import { FIXTURES, MINIMAL_LINES, expectContractError, minimalObject, withLine, yaml } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'agentos-hostile-'));

afterEach(() => {
  // No test may leave anything on Object.prototype.
  expect(Object.getOwnPropertyNames(Object.prototype).filter((k) => /polluted|evil/i.test(k))).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

describe('wrong types and values', () => {
  it('wrong scalar type names field, line and what was expected', () => {
    expectContractError(() => loadContract(withLine(3, 'name: 5')), 'CONTRACT_INVALID', '<inline>:3:1: name: must be a string, got number 5');
    expectContractError(() => loadContract(withLine(7, '    period_ms: "10"')), 'CONTRACT_INVALID', '<inline>:7:5: class.slo.period_ms: must be a number, got string "10"');
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES.slice(0, 3), 'class: HRT'])), 'CONTRACT_INVALID', ':4:1: class: must be a mapping');
  });

  it.each([
    ['    period_ms: 0', 'class.slo.period_ms: must be > 0 (got 0)', 7],
    ['    period_ms: -10', 'class.slo.period_ms: must be > 0 (got -10)', 7],
    ['    deadline_ms: 0', 'class.slo.deadline_ms: must be > 0 (got 0)', 8],
    ['    wcet_ms: -1', 'class.slo.wcet_ms: must be > 0 (got -1)', 9],
    ['    period_ms: .inf', 'class.slo.period_ms: must be a number, got Infinity', 7],
    ['    period_ms: .nan', 'class.slo.period_ms: must be a number, got NaN', 7],
  ])('rejects %s', (line, message, at) => {
    expectContractError(() => loadContract(withLine(at, line)), 'CONTRACT_INVALID', `<inline>:${at}:5: ${message}`);
  });

  it('rejects deadline > period and wcet > deadline at the offending line', () => {
    expectContractError(() => loadContract(withLine(8, '    deadline_ms: 12')), 'CONTRACT_INVALID', '<inline>:8:5: class.slo.deadline_ms: must be <= period_ms (12 > 10)');
    expectContractError(() => loadContract(withLine(9, '    wcet_ms: 11')), 'CONTRACT_INVALID', '<inline>:9:5: class.slo.wcet_ms: must be <= deadline_ms (11 > 10)');
  });

  it('rejects an unknown latency class and lists the valid ones', () => {
    const err = expectContractError(() => loadContract(withLine(5, '  latency: RT')), 'CONTRACT_INVALID',
      '<inline>:5:3: class.latency: unknown latency class "RT"; valid latency classes: HRT, SRT, DT');
    expect(err.field).toBe('class.latency');
    expectContractError(() => loadContract(withLine(5, '  latencyy: HRT')), 'CONTRACT_INVALID', 'class.latency: is required; valid latency classes: HRT, SRT, DT');
  });

  it.each(['Web.fetch', 'web..fetch', 'web.*.x', '*', 'web.fe*', '.web', 'web.', 'web fetch', 'wéb.fetch'])('rejects the capability name %j', (name) => {
    const text = yaml([...MINIMAL_LINES, 'capabilities:', '  - web.fetch', `  - ${JSON.stringify(name)}`]);
    expectContractError(() => loadContract(text), 'CONTRACT_INVALID', '<inline>:12:5: capabilities[1]: a capability name must match');
  });

  it('rejects unknown fields and suggests the nearest known one', () => {
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES, 'capabilites: [web.fetch]'])), 'CONTRACT_INVALID', '<inline>:10:1: capabilites: unknown field (did you mean "capabilities"?)');
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES, '    priority: 3'])), 'CONTRACT_INVALID', '<inline>:10:5: class.slo.priority: unknown field');
  });

  it('reports a missing required field at its parent key', () => {
    const lines = MINIMAL_LINES.filter((l) => !l.includes('wcet_ms'));
    expectContractError(() => loadContract(yaml(lines)), 'CONTRACT_INVALID', '<inline>:6:3: class.slo.wcet_ms: is required');
  });

  it('lists every issue, one per line, the first in `field`', () => {
    const err = expectContractError(() => loadContract(yaml([...MINIMAL_LINES.slice(0, 6), '    period_ms: 0', '    deadline_ms: x', '    wcet_ms: 2', 'bogus: 1'])), 'CONTRACT_INVALID');
    expect(err.message.split('\n')).toEqual([
      '<inline>:7:5: class.slo.period_ms: must be > 0 (got 0)',
      '<inline>:8:5: class.slo.deadline_ms: must be a number, got string "x"',
      '<inline>:10:1: bogus: unknown field',
    ]);
    expect(err.field).toBe('class.slo.period_ms');
    expect((err.details?.issues as unknown[]).length).toBe(3);
  });
});

describe('line numbers', () => {
  it('point into flow collections, block lists and nested mappings', () => {
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES, 'capabilities: [web.fetch, Bad.Name]'])), 'CONTRACT_INVALID', '<inline>:10:27: capabilities[1]:');
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES, 'capabilities: [a.b]', 'security: { consent_for: [a.b, c.d] }'])),
      'CONTRACT_INVALID', '<inline>:11:32: security.consent_for[1]: "c.d" is not among capabilities');
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES, 'binding: flexible', 'prefer: { asr: a_v1 }', 'allow_fallbacks:', '  - for: asr', '    use: b_v1', '    whenn: bandwidth_low'])),
      'CONTRACT_INVALID', '<inline>:15:5: allow_fallbacks[0].whenn: unknown field (did you mean "when"?)');
  });

  it('count lines after comments, blank lines and a multi-line block scalar', () => {
    const text = yaml([
      '# header comment', '', 'description: |', '  line one', '  line two', '', ...MINIMAL_LINES.slice(0, 6), '    # the period', '    period_ms: 0', ...MINIMAL_LINES.slice(7),
    ]);
    expectContractError(() => loadContract(text), 'CONTRACT_INVALID', '<inline>:14:5: class.slo.period_ms: must be > 0 (got 0)');
  });

  it('point at anchored values, and through an alias to where the value is written', () => {
    const text = yaml([...MINIMAL_LINES, 'description: &d 5']);
    expectContractError(() => loadContract(text), 'CONTRACT_INVALID', '<inline>:10:1: description: must be a string, got number 5');
    const via = yaml([...MINIMAL_LINES, 'x-caps: &c [a.b, Nope]', 'capabilities: *c']);
    expectContractError(() => loadContract(via), 'CONTRACT_INVALID', '<inline>:10:18: capabilities[1]: a capability name must match');
  });
});

describe('versions', () => {
  it('rejects an unknown apiVersion and lists the supported ones', () => {
    const err = expectContractError(() => loadContract(withLine(1, 'apiVersion: agentos/v0.1')), 'CONTRACT_VERSION',
      '<inline>:1:1: apiVersion: unsupported version "agentos/v0.1"; supported versions: agentos/v0.2');
    expect(err.field).toBe('apiVersion');
  });

  it('requires apiVersion', () => {
    expectContractError(() => loadContract(yaml(MINIMAL_LINES.slice(1))), 'CONTRACT_VERSION', 'apiVersion: is required; supported versions: agentos/v0.2');
    expectContractError(() => parseContract({ ...minimalObject(), apiVersion: 2 }), 'CONTRACT_VERSION', 'unsupported version 2');
  });

  it('requires kind AgentContract', () => {
    expectContractError(() => loadContract(withLine(2, 'kind: Agent')), 'CONTRACT_INVALID', '<inline>:2:1: kind: must be "AgentContract" (got "Agent")');
  });
});

describe('YAML-level attacks and garbage', () => {
  it('stops a billion-laughs alias bomb quickly with CONTRACT_TOO_LARGE', () => {
    const bomb = [
      ...MINIMAL_LINES,
      'description: x',
      'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(',')}]`),
    ];
    const started = process.hrtime.bigint();
    expectContractError(() => loadContract(yaml(bomb)), 'CONTRACT_TOO_LARGE', 'maxAliasCount 100', 'YAML bomb');
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
  });

  it('allows modest aliases (and then validates the expanded value)', () => {
    const text = yaml([...MINIMAL_LINES, 'capabilities: &caps [web.fetch]', 'security:', '  consent_for: *caps']);
    expect(loadContract(text).security?.consent_for).toEqual(['web.fetch']);
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES, 'capabilities: *nowhere'])), 'CONTRACT_YAML', 'nowhere');
  });

  it('rejects texts over maxBytes (default 256 KiB) before parsing, and honours the option', () => {
    const big = yaml([...MINIMAL_LINES, `description: "${'x'.repeat(300 * 1024)}"`]);
    expectContractError(() => loadContract(big), 'CONTRACT_TOO_LARGE', 'the limit is 262144');
    const small = yaml(MINIMAL_LINES);
    expectContractError(() => loadContract(small, { maxBytes: 64 }), 'CONTRACT_TOO_LARGE', 'the limit is 64');
  });

  it('rejects a 1 MB string even when maxBytes allows the file', () => {
    const text = yaml([...MINIMAL_LINES, `description: ${'y'.repeat(1024 * 1024)}`]);
    const err = expectContractError(() => loadContract(text, { maxBytes: 2 * 1024 * 1024 }), 'CONTRACT_TOO_LARGE',
      '<inline>:10:14: description: string of 1048576 characters exceeds the limit of 65536');
    expect(err.field).toBe('description');
    expectContractError(() => parseContract({ ...minimalObject(), description: 'z'.repeat(1024 * 1024) }), 'CONTRACT_TOO_LARGE', 'description: string of 1048576');
  });

  it('rejects a file larger than maxBytes without reading it', () => {
    const file = join(tmp(), 'huge.agent.yaml');
    writeFileSync(file, Buffer.alloc(300 * 1024, 0x20));
    expectContractError(() => loadContract(file), 'CONTRACT_TOO_LARGE', `${file}: (root): contract file is 307200 bytes`);
  });

  it('rejects duplicate keys at the second occurrence', () => {
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES, 'name: again'])), 'CONTRACT_YAML', '<inline>:10:1: name: duplicate key "name"');
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES, '1: a', '"1": b'])), 'CONTRACT_YAML', '<inline>:11:1: 1: duplicate key "1"');
  });

  it.each([
    ['__proto__', '__proto__: { polluted: true }'],
    ['constructor', 'constructor: { prototype: { polluted: true } }'],
    ['prototype', 'prototype: { polluted: true }'],
  ])('rejects the prototype key %s at the root', (key, line) => {
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES, line])), 'CONTRACT_INVALID', `<inline>:10:1: ${key}: key "${key}" is forbidden`);
  });

  it('rejects prototype keys nested anywhere, in YAML and in JSON input', () => {
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES.slice(0, 6), '    __proto__: { polluted: 1 }', ...MINIMAL_LINES.slice(6)])),
      'CONTRACT_INVALID', '<inline>:7:5: class.slo.__proto__: key "__proto__" is forbidden');
    expectContractError(() => loadContract('{"apiVersion":"agentos/v0.2","x":[{"__proto__":{"polluted":1}}]}'), 'CONTRACT_INVALID', 'x[0].__proto__');
    const json = JSON.parse('{"apiVersion":"agentos/v0.2","class":{"constructor":{"prototype":{"polluted":1}}}}') as unknown;
    expectContractError(() => parseContract(json), 'CONTRACT_INVALID', 'class.constructor: key "constructor" is forbidden');
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it.each([
    ['a list', '- apiVersion: agentos/v0.2\n- kind: AgentContract\n', 'got a list'],
    ['a scalar', 'apiVersion\n', 'got a scalar'],
    ['null', '~\n', 'got a scalar'],
  ])('rejects a root that is %s', (_what, text, got) => {
    expectContractError(() => loadContract(text), 'CONTRACT_INVALID', `<inline>:1:1: (root): the document must be a mapping, ${got}`);
  });

  it('rejects empty text and a text of comments only', () => {
    expectContractError(() => loadContract('\n'), 'CONTRACT_YAML', 'is empty');
    expectContractError(() => loadContract('# nothing\n# here\n'), 'CONTRACT_YAML', 'is empty');
  });

  it('rejects several documents, pointing at the second', () => {
    expectContractError(() => loadContract(`${yaml(MINIMAL_LINES)}---\n${yaml(MINIMAL_LINES)}`), 'CONTRACT_YAML', '<inline>:10:1: (root): holds 2 YAML documents');
  });

  it('rejects custom and language tags', () => {
    expectContractError(() => loadContract(withLine(3, 'name: !!js/function "return 1"')), 'CONTRACT_YAML', '<inline>:3:7: (root): YAML TAG_RESOLVE_FAILED');
    expectContractError(() => loadContract(withLine(3, 'name: !shell hello')), 'CONTRACT_YAML', 'TAG_RESOLVE_FAILED');
  });

  it('rejects collection keys', () => {
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES, '? [a, b]', ': 1'])), 'CONTRACT_YAML', '<inline>:10:3: (root): mapping keys must be plain scalars');
  });

  it('rejects YAML syntax errors with their position', () => {
    expectContractError(() => loadContract(yaml([...MINIMAL_LINES, 'capabilities: [web.fetch'])), 'CONTRACT_YAML', '<inline>:');
    expectContractError(() => loadContract('apiVersion: agentos/v0.2\n  kind: x\n'), 'CONTRACT_YAML', '<inline>:1:');
  });

  it('rejects deep nesting (stack exhaustion attempts) with CONTRACT_TOO_LARGE', () => {
    const deep = `${yaml(MINIMAL_LINES)}x: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`;
    expectContractError(() => loadContract(deep), 'CONTRACT_TOO_LARGE');
    const nested = `${yaml(MINIMAL_LINES)}x: ${'['.repeat(40)}${']'.repeat(40)}\n`;
    expectContractError(() => loadContract(nested), 'CONTRACT_TOO_LARGE', '<inline>:10:36: (root): nesting is deeper than 32 levels');
    const block = `${yaml(MINIMAL_LINES)}x:\n${Array.from({ length: 300 }, (_, i) => `${' '.repeat(i + 1)}- `).join('\n')}1\n`;
    expectContractError(() => loadContract(block), 'CONTRACT_TOO_LARGE', 'block nesting is deeper than 32 levels');
    const compact = `${yaml(MINIMAL_LINES)}x: ${'- '.repeat(10_000)}x\n`;
    expectContractError(() => loadContract(compact), 'CONTRACT_TOO_LARGE', '<inline>:10:');
    let obj: Record<string, unknown> = {};
    const root = obj;
    for (let i = 0; i < 100_000; i++) obj = (obj.x = {}) as Record<string, unknown>;
    expectContractError(() => parseContract({ ...minimalObject(), description: root }), 'CONTRACT_TOO_LARGE', 'deeper than 32');
  });

  it('rejects NUL and other control characters with their position', () => {
    expectContractError(() => loadContract(withLine(3, 'name: hel\u0000lo')), 'CONTRACT_YAML', '<inline>:3:10: (root): contains control character U+0000');
  });

  it('rejects binary files: invalid UTF-8, PNG header, random bytes', () => {
    const dir = tmp();
    const bad = join(dir, 'latin1.agent.yaml');
    writeFileSync(bad, Buffer.from('name: caf\xe9\n', 'latin1'));
    expectContractError(() => loadContract(bad), 'CONTRACT_YAML', 'not valid UTF-8');
    const png = join(dir, 'image.agent.yaml');
    writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    expectContractError(() => loadContract(png), 'CONTRACT_YAML');
    let seed = 12345;
    for (let n = 0; n < 50; n++) {
      const bytes = Buffer.alloc(256, 0).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
      const file = join(dir, `garbage${n}.yaml`);
      writeFileSync(file, bytes);
      expectContractError(() => loadContract(file), 'CONTRACT_YAML');
    }
  });

  it('reports unreadable paths as CONTRACT_READ', () => {
    const dir = tmp();
    expectContractError(() => loadContract(join(dir, 'missing.agent.yaml')), 'CONTRACT_READ', 'ENOENT');
    mkdirSync(join(dir, 'sub.agent.yaml'));
    expectContractError(() => loadContract(join(dir, 'sub.agent.yaml')), 'CONTRACT_READ', 'is not a regular file');
  });

  it('names the fixture the issue text uses: hello.agent.yaml:7:5', () => {
    expectContractError(() => loadContract(join(FIXTURES, 'invalid', 'hello.agent.yaml'), { filename: 'hello.agent.yaml' }),
      'CONTRACT_INVALID', 'hello.agent.yaml:7:5: class.slo.period_ms: must be > 0 (got 0)');
  });
});

describe('hostile JS values for parseContract', () => {
  it.each([
    ['null', null, '(root): the contract must be a mapping, got null'],
    ['a list', [], 'got a list'],
    ['a string', 'apiVersion: agentos/v0.2', 'got "apiVersion'],
    ['a number', 42, 'got 42'],
    ['a function', () => 1, 'must be plain data, got a function'],
    ['a Map', new Map([['apiVersion', 'agentos/v0.2']]), 'must be a plain mapping'],
    ['a Date', new Date(0), 'must be a plain mapping'],
    ['a bigint', { ...minimalObject(), x: 1n }, 'x: must be plain data, got a bigint'],
  ])('rejects %s', (_what, value, fragment) => {
    expectContractError(() => parseContract(value), 'CONTRACT_INVALID', fragment);
  });

  it('rejects a cyclic value as too deep instead of recursing forever', () => {
    const c: Record<string, unknown> = minimalObject();
    c.self = c;
    expectContractError(() => parseContract(c), 'CONTRACT_TOO_LARGE', 'or cyclic');
  });

  it('rejects huge lists without walking them', () => {
    expectContractError(() => parseContract({ ...minimalObject(), capabilities: new Array(5_000_000).fill('a.b') }), 'CONTRACT_TOO_LARGE', 'more than 10000 values');
  });

  it('wraps exceptions thrown by getters and proxies', () => {
    const trap = new Proxy(minimalObject(), { ownKeys: () => { throw new Error('boom'); } });
    const err = expectContractError(() => parseContract(trap), 'CONTRACT_INVALID', 'cannot be processed', 'boom');
    expect((err.cause as Error).message).toBe('boom');
    const getter = Object.defineProperty(minimalObject(), 'name', { enumerable: true, get: () => { throw new TypeError('no'); } });
    expectContractError(() => parseContract(getter), 'CONTRACT_INVALID', 'TypeError: no');
  });
});
