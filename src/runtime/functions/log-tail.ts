/**
 * What X-Amz-Log-Result carries for `--log-type Tail`: the base64 of the last
 * 4 KB of the invocation's log. The cut falls on a character boundary, so the
 * tail is always valid UTF-8 (it may then be a few bytes short of the limit).
 */
export function logTail(logs: string, maxBytes = 4096): string {
  const bytes = Buffer.from(logs, 'utf8');
  if (bytes.length <= maxBytes) return bytes.toString('base64');
  let start = bytes.length - maxBytes;
  // UTF-8 continuation bytes are 10xxxxxx: step past them to the start of the next character.
  while (start < bytes.length && (bytes[start] & 0xc0) === 0x80) start += 1;
  return bytes.subarray(start).toString('base64');
}
