import { expect, test } from 'bun:test';
import { DurationError, parseDuration } from '../../src/duration.ts';

test('reads a number and one unit: s, m, h, d, w', () => {
  expect(parseDuration('45s')).toBe(45_000);
  expect(parseDuration('30m')).toBe(1_800_000);
  expect(parseDuration('12h')).toBe(43_200_000);
  expect(parseDuration('90d')).toBe(90 * 86_400_000);
  expect(parseDuration('2w')).toBe(14 * 86_400_000);
  expect(parseDuration(' 7D ')).toBe(7 * 86_400_000);
});

test('anything else is a DurationError naming the input and the expected form', () => {
  for (const bad of ['', '90', 'd', '0d', '-1d', '1.5h', '1y', '10 days', '1d2h', '999999999w']) {
    expect(() => parseDuration(bad)).toThrow(DurationError);
  }
  expect(() => parseDuration('90x')).toThrow('invalid duration "90x": expected a positive number and a unit, e.g. 90d');
  expect(() => parseDuration('99999999999d')).toThrow('invalid duration "99999999999d": longer than 100 years (5214w)');
  expect(parseDuration('5214w')).toBe(5214 * 604_800_000);
});
