import { describe, expect, test } from 'bun:test';
import { anyOf, asciiLower, combine, like, noneOf } from '../../src/filters/leaf.ts';

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
