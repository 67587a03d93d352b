import { describe, expect, test } from 'bun:test';
import { describeJsonError, topLevelMember } from '../../src/http/json-text.ts';

describe('topLevelMember', () => {
  test('returns the exact source text of a member', () => {
    expect(topLevelMember('{"data": 9007199254740993}', 'data')).toBe('9007199254740993');
    expect(topLevelMember('{"key":"k","data":{"a":[1, "}\\""]},"x":1}', 'data')).toBe('{"a":[1, "}\\""]}');
    expect(topLevelMember(' { "data" : [ ] } ', 'data')).toBe('[ ]');
    expect(topLevelMember('{"data":"x\\\\"}', 'data')).toBe('"x\\\\"');
  });
  test('the last duplicate wins, as in JSON.parse; escaped names are decoded', () => {
    expect(topLevelMember('{"data":1,"data":2}', 'data')).toBe('2');
    expect(topLevelMember('{"d\\u0061ta":true}', 'data')).toBe('true');
  });
  test('nested members of the same name are not top-level', () => {
    expect(topLevelMember('{"x":{"data":1}}', 'data')).toBeUndefined();
  });
});

describe('describeJsonError', () => {
  test('matches Python json messages and offsets', () => {
    expect(describeJsonError('not json')).toEqual({ message: 'Expecting value', position: 0 });
    expect(describeJsonError('{"a" 1}')).toEqual({ message: "Expecting ':' delimiter", position: 5 });
    expect(describeJsonError('{"a":1 "b":2}')).toEqual({ message: "Expecting ',' delimiter", position: 7 });
    expect(describeJsonError("{'a':1}")).toEqual({ message: 'Expecting property name enclosed in double quotes', position: 1 });
    expect(describeJsonError('{"a":1} x')).toEqual({ message: 'Extra data', position: 8 });
    expect(describeJsonError('{"a":"x')).toEqual({ message: 'Unterminated string starting at', position: 5 });
  });
});
