import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalBase64, ipInRange, parseBoolean, parseDate, parseIpAddress, parseIpRange, parseNumber } from './condition-values.ts';

describe('parseDate: W3C ISO 8601 profiles and epoch seconds', () => {
  const rows: Array<[string, number | undefined]> = [
    ['2020-04-01', Date.UTC(2020, 3, 1)],
    ['2020-04-01T10:20Z', Date.UTC(2020, 3, 1, 10, 20)],
    ['2020-04-01T10:20:30Z', Date.UTC(2020, 3, 1, 10, 20, 30)],
    ['2020-04-01T10:20:30.125Z', Date.UTC(2020, 3, 1, 10, 20, 30, 125)],
    ['2020-04-01T10:20:30+02:00', Date.UTC(2020, 3, 1, 8, 20, 30)],
    ['2020-04-01T10:20:30-0530', Date.UTC(2020, 3, 1, 15, 50, 30)],
    ['2020-04-01T10:20:30', Date.UTC(2020, 3, 1, 10, 20, 30)],
    ['2020-04-01t10:20:30z', Date.UTC(2020, 3, 1, 10, 20, 30)],
    ['1585742400', Date.UTC(2020, 3, 1, 12)],
    ['1585742400.5', Date.UTC(2020, 3, 1, 12) + 500],
    ['0', 0],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2023-02-29', undefined],
    ['2020-04-31', undefined],
    ['2020-00-10', undefined],
    ['2020-04-01T24:00:00Z', undefined],
    ['2020-04-01T10:60:00Z', undefined],
    ['2020-04-01T10:00:00+25:00', undefined],
    ['April 1st', undefined],
    ['', undefined],
    ['-5', undefined],
  ];
  for (const [text, expected] of rows) it(JSON.stringify(text), () => assert.equal(parseDate(text), expected));
});

describe('parseNumber, parseBoolean, canonicalBase64', () => {
  it('numbers: integers and decimals only', () => {
    assert.deepEqual(['10', '-3', '+4', '0.5', '.5', '5.', '1e3', '', ' 1', '0x10', 'NaN', 'Infinity'].map(parseNumber), [10, -3, 4, 0.5, 0.5, 5, undefined, undefined, undefined, undefined, undefined, undefined]);
  });
  it('booleans in any case', () => {
    assert.deepEqual(['true', 'FALSE', 'True', 'yes', '1', ''].map(parseBoolean), [true, false, true, undefined, undefined, undefined]);
  });
  it('base64: one spelling for the same bytes, nothing for what is not base64', () => {
    assert.equal(canonicalBase64('QQ=='), 'QQ==');
    assert.equal(canonicalBase64('QQ'), 'QQ==');
    assert.equal(canonicalBase64('QR=='), 'QQ==');
    assert.equal(canonicalBase64(''), '');
    assert.equal(canonicalBase64('Q'), undefined);
    assert.equal(canonicalBase64('a b'), undefined);
    assert.equal(canonicalBase64('a-b_'), undefined);
  });
});

describe('IP addresses and ranges', () => {
  const inRange = (address: string, range: string) => ipInRange(parseIpAddress(address)!, parseIpRange(range)!);
  const rows: Array<[string, string, boolean]> = [
    ['203.0.113.0', '203.0.113.0/24', true],
    ['203.0.113.255', '203.0.113.0/24', true],
    ['203.0.114.0', '203.0.113.0/24', false],
    ['203.0.113.77', '203.0.113.77/24', true],
    ['10.1.2.3', '0.0.0.0/0', true],
    ['10.1.2.3', '10.1.2.3', true],
    ['2001:db8::1', '2001:db8::/32', true],
    ['2001:db9::1', '2001:db8::/32', false],
    ['[2001:db8::1]', '2001:DB8::/32', true],
    ['::ffff:203.0.113.5', '203.0.113.0/24', true],
    ['203.0.113.5', '::ffff:203.0.113.0/120', true],
    ['203.0.114.5', '::ffff:203.0.113.0/120', false],
    ['2001:db8::1', '0.0.0.0/0', false],
  ];
  for (const [address, range, expected] of rows) it(`${address} in ${range}: ${expected}`, () => assert.equal(inRange(address, range), expected));
  it('refuses what is not an address or range', () => {
    for (const text of ['203.0.113', '203.0.113.256', '0x7f.0.0.1', '127.1', 'localhost', '']) assert.equal(parseIpAddress(text), undefined, text);
    for (const text of ['203.0.113.0/33', '2001:db8::/129', '203.0.113.0/', '203.0.113.0/x', '::ffff:1.2.3.4/64']) assert.equal(parseIpRange(text), undefined, text);
  });
});
