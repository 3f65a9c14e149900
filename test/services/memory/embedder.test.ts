import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkVector, HashingEmbedder, hash32, norm, providerEmbedder, tokens } from '../../../src/services/memory/embedder.js';

const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('HashingEmbedder', () => {
  const e = new HashingEmbedder();

  it('is 256-dimensional by default and names its space', () => {
    expect(e.dimension).toBe(256);
    expect(e.id).toBe('hashing-v1/256/0.35');
  });

  it('normalises text: case, accents, punctuation, stopwords, single letters and plural s', () => {
    expect(tokens('The Café’s CAFÉS, and the routers! 5 times')).toEqual(['cafe', 'cafe', 'router', '5', 'time']);
  });

  it('hashes with fixed, platform-independent values', () => {
    // Changing these changes every stored embedding: bump the embedder id if you must.
    expect([hash32(''), hash32('w:router'), hash32('w:router', 0x9747b28c)]).toEqual([2_872_998_923, 2_081_200_341, 1_685_151_883]);
  });

  it('property: the same text gives the same unit vector (or zero for a text with no words), across instances', () => {
    const other = new HashingEmbedder();
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const [a] = e.embed([text]);
        const [b] = other.embed([text]);
        expect(Buffer.from(a!.buffer).equals(Buffer.from(b!.buffer))).toBe(true);
        const n = norm(a!);
        return tokens(text).length === 0 ? n === 0 : Math.abs(n - 1) < 1e-5;
      }),
    );
  });

  it('a text whose signed features cancel exactly ("GX 7": two words, one bucket, opposite signs) still embeds to a unit vector', () => {
    expect(tokens('GX 7')).toEqual(['gx', '7']);
    const [v] = e.embed(['GX 7']);
    expect(Math.abs(norm(v!) - 1)).toBeLessThan(1e-5);
  });

  it('puts related texts closer than unrelated ones', () => {
    const [q, near, far] = e.embed([
      'How long is the warranty on the espresso machine?',
      'The espresso machine comes with a two-year warranty covering parts.',
      'Lidar obstacle avoidance keeps the drone away from trees.',
    ]);
    expect(cos(q!, near!)).toBeGreaterThan(cos(q!, far!) + 0.2);
  });

  it('refuses a nonsensical dimension', () => {
    expect(() => new HashingEmbedder({ dimension: 3 })).toThrow(expect.objectContaining({ code: 'MEMORY_INVALID_ARGS', field: 'dimension' }));
  });
});

describe('vector checks', () => {
  it('names a wrong dimension MEMORY_BAD_DIMENSION with expected and got', () => {
    expect(() => checkVector([1, 2, 3], 4)).toThrow(expect.objectContaining({ code: 'MEMORY_BAD_DIMENSION', details: { expected: 4, got: 3 } }));
  });

  it('refuses NaN and infinite components', () => {
    expect(() => checkVector([1, Number.NaN], 2)).toThrow(expect.objectContaining({ code: 'MEMORY_BAD_VECTOR' }));
    expect(() => checkVector([Infinity, 1], 2)).toThrow(expect.objectContaining({ code: 'MEMORY_BAD_VECTOR' }));
  });

  it('checks what a provider embedder returns', async () => {
    const short = providerEmbedder({ id: 'remote/bad', dimension: 4, embed: async (t) => t.map(() => [1, 2, 3]) });
    await expect(short.embed(['x'])).rejects.toMatchObject({ code: 'MEMORY_BAD_DIMENSION' });
    const missing = providerEmbedder({ id: 'remote/few', dimension: 2, embed: async () => [[1, 0]] });
    await expect(missing.embed(['a', 'b'])).rejects.toMatchObject({ code: 'MEMORY_BAD_VECTOR' });
    const good = providerEmbedder({ id: 'remote/ok', dimension: 2, embed: async (t) => t.map(() => [0.6, 0.8]) });
    expect(Array.from((await good.embed(['a']))[0]!)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
  });
});
