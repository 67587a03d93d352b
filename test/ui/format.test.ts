import { describe, expect, test } from 'bun:test';
import { shortId } from '../../src/ui/client/format.ts';
import { newId } from '../../src/store/ids.ts';

describe('shortId', () => {
  test('tells apart ids the server makes in the same minute (UUIDv7: the first block is a clock)', () => {
    const ids = Array.from({ length: 50 }, () => newId());
    expect(new Set(ids.map(shortId)).size).toBe(ids.length);
  });

  test('is the tail of the id, so it can be found in the full id', () => {
    expect(shortId('6f1d2c3b-8a4e-4b7a-9c11-2e5d7f9a0b12')).toBe('7f9a0b12');
  });
});
