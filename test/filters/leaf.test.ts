import { describe, expect, test } from 'bun:test';
import { compileArtifactFilter, compileCollectionFilter } from '../../src/filters/artifacts.ts';
import { always, anyOf, asciiLower, combine, like, never, noneOf, on } from '../../src/filters/leaf.ts';

describe('like_', () => {
  test('is a case-insensitive substring match', () => {
    expect(like('one')('k-ONE-x')).toBe(true);
    expect(like('ONE')('k-one')).toBe(true);
    expect(like('two')('k-one')).toBe(false);
  });
  test('% matches any run and _ exactly one character', () => {
    expect(like('k%x')('k-one-x')).toBe(true);
    expect(like('d_1')('d-1-1')).toBe(true);
    expect(like('d_1')('d1')).toBe(false);
    expect(like('a__b')('a-b')).toBe(false);
  });
  test('regex metacharacters are literal', () => {
    expect(like('a.b')('a.b')).toBe(true);
    expect(like('a.b')('axb')).toBe(false);
    expect(like('(x)')('y(x)z')).toBe(true);
    expect(like('\\')('a\\b')).toBe(true);
  });
  test('empty pattern matches every non-null value, never null', () => {
    expect(like('')('')).toBe(true);
    expect(like('')('anything')).toBe(true);
    expect(like('')(null)).toBe(false);
  });
  test('folds ASCII only', () => {
    expect(like('école')('ÉCOLE')).toBe(false);
    expect(like('ÉCOLE')('ÉCOLE')).toBe(true);
    expect(asciiLower('ABC-É')).toBe('abc-É');
  });
  test('_ matches one code point, not half of an emoji', () => {
    expect(like('a_b')('a😀b')).toBe(true);
  });
});

describe('any_ / not_any_', () => {
  test('any_ of an empty list matches nothing; NULL never matches', () => {
    expect(anyOf<string>([])('x')).toBe(false);
    expect(anyOf(['x'])(null)).toBe(false);
    expect(anyOf(['x', 'y'])('y')).toBe(true);
  });
  test('not_any_ excludes NULL unless the list is empty', () => {
    expect(noneOf(['x'])(null)).toBe(false);
    expect(noneOf(['x'])('y')).toBe(true);
    expect(noneOf(['x'])('x')).toBe(false);
    expect(noneOf<string>([])(null)).toBe(true);
  });
});

describe('combine', () => {
  const yes = () => true;
  const no = () => false;
  test('no conditions is TRUE', () => {
    expect(combine([])(0)).toBe(true);
    expect(combine([], 'or_')(0)).toBe(true);
  });
  test('and_ and or_', () => {
    expect(combine([yes, no])(0)).toBe(false);
    expect(combine([yes, no], 'or_')(0)).toBe(true);
    expect(combine([no, no], 'or_')(0)).toBe(false);
  });
});

describe('always and never fold', () => {
  const yes = (v: number) => v > 0;
  test('AND: one never is never, always drops out; OR: the reverse', () => {
    expect(combine([yes, never])).toBe(never);
    expect(combine([always, yes])).toBe(yes);
    expect(combine([always, always])).toBe(always);
    expect(combine([yes, always], 'or_')).toBe(always);
    expect(combine([never, yes], 'or_')).toBe(yes);
    expect(combine([never, never], 'or_')).toBe(never);
    // Nothing present is still TRUE under either operator (filters.md).
    expect(combine([])).toBe(always);
    expect(combine([], 'or_')).toBe(always);
  });
  test('an empty any_ is never, and a lifted never or always stays itself', () => {
    expect(anyOf([])).toBe(never);
    expect(on((r: { k: string }) => r.k, anyOf<string>([]))).toBe(never);
    expect(on((r: { k: string }) => r.k, always)).toBe(always);
  });
  test("a collection's key.exists_ is decided without a row; an artifact's is not", () => {
    expect(compileCollectionFilter({ key: { exists_: false } })).toBe(never);
    expect(compileCollectionFilter({ key: { exists_: true } })).toBe(always);
    expect(compileCollectionFilter({ key: { exists_: false }, operator: 'or_', type: { any_: ['t'] } })).not.toBe(never);
    expect(compileArtifactFilter({ key: { exists_: false } })).not.toBe(never);
    expect(compileArtifactFilter({ id: { any_: [] }, type: { any_: ['t'] } })).toBe(never);
  });
});
