import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import {
  checkAddress,
  checkUrl,
  DEFAULT_URL_FETCH_POLICY,
  describeAddressRefusal,
  validateUrlFetchPolicy,
  type UrlFetchPolicy,
} from './url-policy.ts';

const policy = (overrides: Partial<UrlFetchPolicy> = {}): UrlFetchPolicy => ({ ...DEFAULT_URL_FETCH_POLICY, ...overrides });

function refusedUrl(url: string, p: UrlFetchPolicy = policy()): DomainError {
  try {
    checkUrl(url, p);
  } catch (error) {
    assert.ok(error instanceof DomainError, `${url}: expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, 'UrlRefused', `${url}: ${error.message}`);
    return error;
  }
  assert.fail(`${url} was accepted`);
}

function refusedAddress(ip: string, p: UrlFetchPolicy = policy()): DomainError {
  try {
    checkAddress(ip, p);
  } catch (error) {
    assert.ok(error instanceof DomainError && error.code === 'UrlRefused', `${ip}: ${String(error)}`);
    return error;
  }
  assert.fail(`${ip} was accepted`);
}

describe('checkUrl: literal addresses in every spelling', () => {
  const cases: Array<[string, RegExp]> = [
    ['http://127.0.0.1/dog.jpg', /loopback/],
    ['http://127.1/', /loopback/],
    ['http://127.0.1/', /loopback/],
    ['http://2130706433/', /loopback/],
    ['http://0x7f000001/', /loopback/],
    ['http://0x7f.0x0.0x0.0x1/', /loopback/],
    ['http://0177.0.0.1/', /loopback/],
    ['http://017700000001/', /loopback/],
    ['http://127.0.0.1./', /loopback/],
    ['http://127.255.255.254:8080/', /loopback/],
    ['http://[::1]/', /loopback/],
    ['http://[0:0:0:0:0:0:0:1]/', /loopback/],
    ['http://[::ffff:127.0.0.1]/', /IPv6 form of a loopback/],
    ['http://[::ffff:7f00:1]/', /IPv6 form of a loopback/],
    ['http://[::127.0.0.1]/', /not a global unicast/],
    ['http://[64:ff9b::7f00:1]/', /IPv6 form of a loopback/],
    ['http://[64:ff9b::a9fe:a9fe]/', /IPv6 form of a link-local/],
    ['http://[2002:7f00:1::]/', /IPv6 form of a loopback/],
    ['http://[2002:a00:1::1]/', /IPv6 form of a private/],
    ['http://0.0.0.0/', /unspecified/],
    ['http://0/', /unspecified/],
    ['http://[::]/', /unspecified/],
    ['http://169.254.169.254/latest/meta-data/', /link-local.*metadata/],
    ['http://2852039166/', /link-local/],
    ['http://[fe80::1]/', /link-local/],
    ['http://[::ffff:169.254.169.254]/', /link-local/],
    ['http://10.0.0.1/', /private/],
    ['http://10.255.255.255/', /private/],
    ['http://172.16.0.1/', /private/],
    ['http://172.31.255.255/', /private/],
    ['http://192.168.1.1/', /private/],
    ['http://[::ffff:10.0.0.1]/', /IPv6 form of a private/],
    ['http://100.64.0.1/', /carrier-grade NAT/],
    ['http://100.127.255.255/', /carrier-grade NAT/],
    ['http://[fc00::1]/', /unique-local/],
    ['http://[fd12:3456::1]/', /unique-local/],
    ['http://[fec0::1]/', /site-local/],
    ['http://224.0.0.1/', /multicast/],
    ['http://[ff02::1]/', /multicast/],
    ['http://255.255.255.255/', /broadcast/],
    ['http://240.0.0.1/', /reserved/],
    ['http://192.0.2.10/', /reserved or documentation/],
    ['http://198.18.0.1/', /reserved/],
    ['http://[2001:db8::1]/', /reserved/],
    ['http://[2001::1]/', /Teredo|reserved/],
    ['http://[100::1]/', /special-purpose|discard/],
  ];
  for (const [url, reason] of cases) {
    it(`refuses ${url}`, () => {
      const error = refusedUrl(url);
      assert.match(error.message, reason);
      assert.match(error.message, /allowPrivateCidrs/, 'the message says how an operator can allow it');
    });
  }

  it('accepts public addresses', () => {
    for (const url of ['http://93.184.216.34/dog.jpg', 'https://8.8.8.8/', 'http://[2606:4700::1111]/', 'http://172.32.0.1/', 'http://100.128.0.1/']) {
      assert.equal(checkUrl(url, policy()).href, new URL(url).href);
    }
    assert.equal(checkUrl('http://[::ffff:93.184.216.34]/', policy()).hostname, '[::ffff:5db8:d822]');
    assert.equal(checkUrl('http://[64:ff9b::5db8:d822]/', policy()).hostname, '[64:ff9b::5db8:d822]');
  });
});

describe('checkUrl: schemes, credentials and names', () => {
  const cases: Array<[string, RegExp]> = [
    ['file:///etc/passwd', /Only http and https .* 'file:'/],
    ['ftp://images.example.com/dog.jpg', /'ftp:'/],
    ['gopher://images.example.com:70/_GET', /'gopher:'/],
    ['data:image/jpeg;base64,/9j/4AAQ', /'data:'/],
    ['javascript:alert(1)', /'javascript:'/],
    ['ws://images.example.com/', /'ws:'/],
    ['dict://127.0.0.1:11211/stats', /'dict:'/],
    ['http://user:pass@images.example.com/dog.jpg', /credentials/],
    ['http://user@images.example.com/dog.jpg', /credentials/],
    ['http://localhost/', /local or internal host/],
    ['http://LOCALHOST./', /local or internal host/],
    ['http://api.localhost/', /local or internal host/],
    ['http://printer.local/', /local or internal host/],
    ['http://metadata.google.internal/computeMetadata/v1/', /local or internal host/],
    ['http://router.home.arpa/', /local or internal host/],
    ['not a url', /not a valid absolute URL/],
    ['/relative/dog.jpg', /not a valid absolute URL/],
    ['http://', /not a valid absolute URL/],
    [`http://images.example.com/${'a'.repeat(9000)}`, /characters long/],
  ];
  for (const [url, reason] of cases) {
    it(`refuses ${url.slice(0, 60)}`, () => assert.match(refusedUrl(url).message, reason));
  }

  it('refuses https when the policy allows only http, and never a scheme beyond the two', () => {
    assert.match(refusedUrl('https://images.example.com/', policy({ allowedSchemes: ['http'] })).message, /Only http URLs/);
    const sneaky = policy({ allowedSchemes: ['http', 'file' as 'http'] });
    refusedUrl('file:///etc/passwd', sneaky);
  });

  it('accepts public names and returns the parsed URL', () => {
    const url = checkUrl('HTTPS://Images.Example.COM:8443/dogs/a%20b.jpg?size=large', policy());
    assert.equal(url.href, 'https://images.example.com:8443/dogs/a%20b.jpg?size=large');
  });
});

describe('checkUrl: the host allow-list', () => {
  const listed = policy({ allowHosts: ['images.example.com', '*.cdn.example.net', 'Bücher.example', '203.0.113.7', '[2001:db8::7]'] });
  const allowed = [
    'https://images.example.com/dog.jpg',
    'https://IMAGES.EXAMPLE.COM./dog.jpg',
    'http://images.example.com:8080/dog.jpg',
    'https://a.cdn.example.net/dog.jpg',
    'https://a.b.cdn.example.net/dog.jpg',
    'https://xn--bcher-kva.example/dog.jpg',
    'https://bücher.example/dog.jpg',
  ];
  for (const url of allowed) {
    it(`admits ${url}`, () => assert.ok(checkUrl(url, listed)));
  }
  const refused = [
    'https://example.com/',
    'https://cdn.example.net/dog.jpg',
    'https://evil-cdn.example.net/dog.jpg',
    'https://acdn.example.net/dog.jpg',
    'https://images.example.com.evil.org/dog.jpg',
    'https://evilimages.example.com/dog.jpg',
    'https://sub.images.example.com/dog.jpg',
    'https://93.184.216.34/dog.jpg',
  ];
  for (const url of refused) {
    it(`refuses ${url}`, () => assert.match(refusedUrl(url, listed).message, /not one of the image hosts/));
  }

  it('does not let a wildcard reach an IP address, nor an allow-listed IP skip the address check', () => {
    refusedUrl('http://10.0.0.1/', policy({ allowHosts: ['*.0.0.1'] }));
    assert.match(refusedUrl('http://203.0.113.7/', listed).message, /reserved or documentation/);
    assert.ok(checkUrl('http://203.0.113.7/', { ...listed, allowPrivateCidrs: ['203.0.113.0/24'] }));
  });

  it('admits a local name only when the allow-list names it explicitly', () => {
    refusedUrl('http://localhost:8080/', policy());
    assert.ok(checkUrl('http://localhost:8080/', policy({ allowHosts: ['localhost'] })));
    assert.ok(checkUrl('http://cams.corp.internal/', policy({ allowHosts: ['*.corp.internal'] })));
  });

  it('refuses everything with an empty allow-list', () => {
    refusedUrl('https://images.example.com/', policy({ allowHosts: [] }));
  });
});

describe('checkAddress: resolved addresses', () => {
  const refusedTable: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['127.8.9.10', /loopback/],
    ['169.254.169.254', /link-local/],
    ['10.0.0.1', /private/],
    ['172.16.0.1', /private/],
    ['192.168.0.1', /private/],
    ['100.64.0.1', /carrier-grade/],
    ['0.0.0.0', /unspecified/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['fc00::1', /unique-local/],
    ['::ffff:10.0.0.1', /IPv6 form of a private/],
    ['::ffff:127.0.0.1', /IPv6 form of a loopback/],
    ['64:ff9b:1::a00:1', /local-use NAT64/],
    ['::7f00:1', /not a global unicast/],
    ['not-an-ip', /not an IP address/],
    ['0x7f000001', /not an IP address/],
    ['2130706433', /not an IP address/],
    ['127.1', /not an IP address/],
  ];
  for (const [ip, reason] of refusedTable) {
    it(`refuses ${ip}`, () => assert.match(refusedAddress(ip).message, reason));
  }

  it('accepts public IPv4 and IPv6 addresses', () => {
    for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      assert.doesNotThrow(() => checkAddress(ip, policy()), ip);
      assert.equal(describeAddressRefusal(ip, policy()), undefined);
    }
  });

  it('lets allowPrivateCidrs open exactly the named ranges', () => {
    const allow = policy({ allowPrivateCidrs: ['127.0.0.1/32', '10.1.0.0/16', 'fd00:1::/32', '192.168.7.7'] });
    for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '10.1.200.3', 'fd00:1::5', '192.168.7.7']) {
      assert.doesNotThrow(() => checkAddress(ip, allow), ip);
    }
    for (const ip of ['127.0.0.2', '10.2.0.1', 'fd00:2::5', '192.168.7.8', '169.254.169.254', '::1']) {
      refusedAddress(ip, allow);
    }
  });
});

describe('validateUrlFetchPolicy', () => {
  it('accepts the default policy', () => {
    assert.equal(validateUrlFetchPolicy(DEFAULT_URL_FETCH_POLICY), DEFAULT_URL_FETCH_POLICY);
    assert.deepEqual(DEFAULT_URL_FETCH_POLICY.allowHosts, ['*']);
    assert.deepEqual(DEFAULT_URL_FETCH_POLICY.allowPrivateCidrs, []);
    assert.equal(DEFAULT_URL_FETCH_POLICY.maxRedirects, 3);
    assert.equal(DEFAULT_URL_FETCH_POLICY.maxBytes, 6 * 1024 * 1024);
    assert.equal(DEFAULT_URL_FETCH_POLICY.timeoutMs, 10_000);
  });

  const bad: Array<[Partial<UrlFetchPolicy>, RegExp]> = [
    [{ allowPrivateCidrs: ['10.0.0.0/33'] }, /allowPrivateCidrs\[0\]: '10.0.0.0\/33' is not a CIDR/],
    [{ allowPrivateCidrs: ['127.0.0.1/32', 'localhost'] }, /allowPrivateCidrs\[1\]/],
    [{ allowPrivateCidrs: ['10.0.0.0/8/8'] }, /allowPrivateCidrs\[0\]/],
    [{ allowHosts: ['http://images.example.com'] }, /allowHosts\[0\]/],
    [{ allowHosts: ['images.example.com:8080'] }, /allowHosts\[0\]/],
    [{ allowHosts: ['*.*.example.com'] }, /allowHosts\[0\]/],
    [{ allowHosts: ['*.10.0.0.1'] }, /allowHosts\[0\]/],
    [{ allowedSchemes: ['gopher' as 'http'] }, /allowedSchemes\[0\]/],
    [{ maxRedirects: -1 }, /maxRedirects/],
    [{ maxBytes: 1.5 }, /maxBytes/],
    [{ timeoutMs: 0 }, /timeoutMs/],
  ];
  for (const [overrides, message] of bad) {
    it(`rejects ${JSON.stringify(overrides)}`, () => {
      assert.throws(
        () => validateUrlFetchPolicy(policy(overrides)),
        (error: unknown) => error instanceof DomainError && error.code === 'ValidationError' && message.test(error.message),
      );
    });
  }

  it('fails closed when an unvalidated policy carries a broken CIDR', () => {
    assert.throws(() => checkAddress('10.0.0.1', policy({ allowPrivateCidrs: ['ten/8'] })), /allowPrivateCidrs\[0\]/);
  });
});
