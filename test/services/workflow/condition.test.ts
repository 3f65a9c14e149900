// The condition language: `<field> <op> <literal>`. Parsing is exact, the
// canonical text round-trips, and no input makes it throw anything but a WorkflowError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONDITION_OPS, checkCondition, formatCondition, parseCondition } from '../../../src/services/workflow/condition.js';
import { WorkflowError } from '../../../src/services/workflow/errors.js';
import type { Condition } from '../../../src/services/workflow/types.js';

describe('parseCondition', () => {
  it.each([
    ['score >= 0.8', { field: 'score', op: '>=', value: 0.8 }],
    ["status == 'done'", { field: 'status', op: '==', value: 'done' }],
    ['status=="done"', { field: 'status', op: '==', value: 'done' }],
    ["  email != ''  ", { field: 'email', op: '!=', value: '' }],
    ['n < -1e3', { field: 'n', op: '<', value: -1000 }],
    ['n <= -0', { field: 'n', op: '<=', value: 0 }],
    ['ok == true', { field: 'ok', op: '==', value: true }],
    ['ok != false', { field: 'ok', op: '!=', value: false }],
    ['x == null', { field: 'x', op: '==', value: null }],
    ['_a1 > 2', { field: '_a1', op: '>', value: 2 }],
    ["s == 'it\\'s \\\\ ok'", { field: 's', op: '==', value: "it's \\ ok" }],
    ['s == "tab\\tand \\u00e9"', { field: 's', op: '==', value: 'tab\tand é' }],
    ["s == 'a == b'", { field: 's', op: '==', value: 'a == b' }],
  ])('%j', (text, expected) => {
    expect(parseCondition(text)).toEqual({ ...expected, text: text.trim() });
  });

  it.each([
    ['', 'expected a field name at column 1'],
    ['1 == x', 'expected a field name'],
    ['a.b == 1', 'expected one of == != < <= > >= at column 2'],
    ['x = 1', 'expected one of'],
    ['x === 1', 'expected a literal'],
    ['x == ', 'expected a literal'],
    ['x == yes', 'expected a literal'],
    ['x == True', 'expected a literal'],
    ['x == 01', 'expected a literal'],
    ['x == 1.', 'expected a literal'],
    ['x == 1e999', 'out of range'],
    ["x == 'open", 'unterminated string'],
    ["x == 'a\\n'", "only \\' and \\\\ are escapes"],
    ['x == "\\q"', 'not a valid "double-quoted" string'],
    ["x == 'a\tb'", 'control characters must be escaped'],
    ['x == "\\ud800"', 'lone surrogate'],
    ['x == 1 and y == 2', 'unexpected text after the literal at column 8'],
    ['x == truely', 'expected a literal'],
  ])('%j is refused', (text, fragment) => {
    let err: unknown;
    try {
      parseCondition(text, 'when');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorkflowError);
    expect((err as WorkflowError).code).toBe('WORKFLOW_INVALID');
    expect((err as WorkflowError).field).toBe('when');
    expect((err as WorkflowError).message).toContain(fragment);
  });
});

const field = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
// Well-formed Unicode (a lone surrogate is refused); control characters only in "double-quoted" form.
const text = fc.string({ unit: 'grapheme', maxLength: 30 });
const printable = text.filter((s) => [...s].every((c) => (c.codePointAt(0) as number) >= 0x20));
const literal = fc.oneof(text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null));
const condition = fc.record({ field, op: fc.constantFrom(...CONDITION_OPS), value: literal });

describe('round trip', () => {
  it('parseCondition(formatCondition(c)) equals c (but for the text), and formatting is a fixed point', () => {
    fc.assert(fc.property(condition, (c) => {
      const text = formatCondition(c);
      const parsed = parseCondition(text);
      const { text: _t, ...rest } = parsed;
      expect(rest).toEqual({ ...c, value: Object.is(c.value, -0) ? 0 : c.value });
      expect(formatCondition(parsed)).toBe(text);
      expect(parsed.text).toBe(text);
    }), { numRuns: 500 });
  });

  it('single-quoted strings read the same as double-quoted ones', () => {
    fc.assert(fc.property(field, printable, (f, s) => {
      const single = `${f} == '${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
      expect(parseCondition(single).value).toBe(s);
    }), { numRuns: 300 });
  });
});

describe('fuzz', () => {
  const onlyWorkflowErrors = (input: string) => {
    try {
      const c: Condition = parseCondition(input);
      expect(CONDITION_OPS).toContain(c.op);
    } catch (err) {
      if (!(err instanceof WorkflowError)) throw err;
      expect(err.code).toBe('WORKFLOW_INVALID');
    }
  };

  it('arbitrary text parses or fails with WORKFLOW_INVALID, nothing else', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), onlyWorkflowErrors), { numRuns: 1000 });
  });

  it('mutated valid conditions parse or fail with WORKFLOW_INVALID, nothing else', () => {
    const mutated = fc.tuple(condition, fc.nat(), fc.nat(), fc.constantFrom('', ' ', "'", '"', '\\', '=', '<', '!', '.', '-', 'e', '\u0000', '\ud800'))
      .map(([c, at, drop, insert]) => {
        const s = formatCondition(c);
        const i = at % (s.length + 1);
        return s.slice(0, i) + insert + s.slice(i + (drop % 3));
      });
    fc.assert(fc.property(mutated, onlyWorkflowErrors), { numRuns: 1000 });
  });

  it('non-strings and very long text are WORKFLOW_INVALID', () => {
    expect(() => parseCondition(42 as unknown as string)).toThrow(WorkflowError);
    expect(() => parseCondition(`x == '${'a'.repeat(2000)}'`)).toThrow(/limit is 1024/);
  });
});

describe('checkCondition', () => {
  const fields = { type: 'object', properties: { n: { type: 'integer' }, s: { type: 'string' }, e: { enum: ['a', 'b'] }, any: {} } };
  it.each([
    ['n > 2.5', undefined],
    ['n == 3', undefined],
    ['n == 3.5', 'WORKFLOW_TYPE_MISMATCH'],
    ['s < "m"', undefined],
    ['s > 3', 'WORKFLOW_TYPE_MISMATCH'],
    ['e == "a"', undefined],
    ['e == "c"', 'WORKFLOW_TYPE_MISMATCH'],
    ['n == null', undefined],
    ['n < null', 'WORKFLOW_TYPE_MISMATCH'],
    ['any > true', 'WORKFLOW_TYPE_MISMATCH'],
    ['any > 1', undefined],
    ['missing == 1', 'WORKFLOW_INVALID'],
    ['constructor == 1', 'WORKFLOW_INVALID'],
  ])('%s → %s', (text, code) => {
    expect(checkCondition(parseCondition(text), fields, 'the inputs')?.code).toBe(code);
  });
});
