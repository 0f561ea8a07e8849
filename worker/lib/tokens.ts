/**
 * API token format and hashing, runtime-free (WebCrypto only).
 * A token reads `tern_<id>_<secret>`: the id is the public lookup key, the secret is hashed with
 * SHA-256 at rest. Secrets are 190 bits of randomness, so a fast hash is the right choice.
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const TOKEN_PREFIX = "tern_";
const ID_LENGTH = 12;
const SECRET_LENGTH = 32;
const TOKEN_PATTERN = new RegExp(`^${TOKEN_PREFIX}([A-Za-z0-9]{${ID_LENGTH}})_([A-Za-z0-9]{${SECRET_LENGTH}})$`);

export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

function randomString(length: number): string {
  // Rejection sampling keeps every character uniformly likely (256 is not a multiple of 62).
  const out: string[] = [];
  const limit = 256 - (256 % ALPHABET.length);
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const b of bytes) {
      if (b < limit && out.length < length) out.push(ALPHABET[b % ALPHABET.length]);
    }
  }
  return out.join("");
}

export interface NewToken {
  id: string;
  secret: string;
  token: string;
}

export function generateToken(): NewToken {
  const id = randomString(ID_LENGTH);
  const secret = randomString(SECRET_LENGTH);
  return { id, secret, token: `${TOKEN_PREFIX}${id}_${secret}` };
}

export function parseToken(token: string): { id: string; secret: string } | null {
  const m = TOKEN_PATTERN.exec(token);
  return m ? { id: m[1], secret: m[2] } : null;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Equality whose running time depends only on the lengths, not on where the inputs differ.
 * Inputs are compared as their SHA-256 digests so that even the lengths do not leak.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([sha256Hex(a), sha256Hex(b)]);
  let diff = 0;
  for (let i = 0; i < ha.length; i++) diff |= ha.charCodeAt(i) ^ hb.charCodeAt(i);
  return diff === 0;
}

/** admin ⊃ write ⊃ read. */
export function scopeSatisfies(granted: readonly string[], needed: Scope): boolean {
  const rank = (s: string) => SCOPES.indexOf(s as Scope);
  return granted.some((s) => rank(s) >= rank(needed));
}
