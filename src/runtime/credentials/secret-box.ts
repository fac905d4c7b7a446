import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { DomainError } from '../../core/errors.ts';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The format's version, so a later cipher can sit beside this one. */
const PREFIX = 'v1:';

/**
 * Seals secrets (secret access keys, session tokens) with AES-256-GCM under a
 * key kept in its own file of mode 0600, so the database alone does not give
 * the keys away: a copied kennel.db, a backup or a bug report holds only
 * ciphertext. GCM's tag makes a tampered value fail to open instead of
 * yielding a different secret.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new DomainError('ValidationError', `A secret key must be ${KEY_BYTES} bytes (got ${key.length})`);
    this.#key = key;
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
  }

  open(sealed: string): string {
    const bytes = sealed.startsWith(PREFIX) ? Buffer.from(sealed.slice(PREFIX.length), 'base64') : Buffer.alloc(0);
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new DomainError('Internal', 'A stored secret is not in the sealed format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new DomainError('Internal', 'A stored secret does not open with this state folder’s key: the key file or the database was changed');
    }
  }
}

/**
 * The state folder's key: read when it exists, created (32 random bytes,
 * mode 0600, written atomically) when it does not. A key file of the wrong
 * size is refused rather than replaced, since replacing it would make every
 * stored secret unreadable.
 */
export async function loadOrCreateSecretBox(file: string): Promise<SecretBox> {
  let key: Buffer;
  try {
    key = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    key = randomBytes(KEY_BYTES);
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, key, { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, file);
  }
  if (key.length !== KEY_BYTES) {
    throw new DomainError(
      'ValidationError',
      `The key file ${file} holds ${key.length} bytes, not ${KEY_BYTES}: it was changed or truncated. Restore it from a backup; without it stored access keys cannot be read.`,
      { path: file },
    );
  }
  return new SecretBox(key);
}
