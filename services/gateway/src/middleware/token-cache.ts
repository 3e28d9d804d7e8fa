import { hashToken, type TokenWithLab } from "@labnet/db";

type TokenRow = TokenWithLab;

/**
 * How long a verified token is trusted without asking Postgres again. A revocation (or a
 * role change) takes effect within this time on every gateway; short enough that nobody
 * notices, long enough that a busy client costs one token lookup per few thousand calls.
 */
export const TOKEN_CACHE_TTL_MS = 5_000;

/** Verified tokens kept at most; beyond, the oldest go first. */
const MAX_ENTRIES = 1_000;

/** Looks tokens up by their secret, remembering verified ones for a few seconds. */
export interface TokenVerifier {
  /** The active token with this secret, or undefined when there is none (or it was revoked). */
  verify(secret: string): Promise<TokenRow | undefined>;
  /** Forgets a token at once (it was revoked, here or on another gateway). */
  forget(tokenId: string): void;
}

/** How a {@link TokenVerifier} remembers. */
export interface TokenVerifierOptions {
  /** How long a verified token is trusted (default {@link TOKEN_CACHE_TTL_MS}; 0: not at all). */
  ttlMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/**
 * A {@link TokenVerifier} over `lookup` (`findActiveToken`). Only successful lookups are remembered
 * (an unknown or revoked token is asked about every time, so creating or un-revoking one
 * works at once), keyed by the secret's SHA-256 rather than the secret itself, for at most
 * {@link TOKEN_CACHE_TTL_MS}. Concurrent lookups of one secret share one query.
 */
export function createTokenVerifier(
  lookup: (secret: string) => Promise<TokenRow | undefined>,
  options: TokenVerifierOptions = {},
): TokenVerifier {
  const ttlMs = options.ttlMs ?? TOKEN_CACHE_TTL_MS;
  const now = options.now ?? Date.now;
  const verified = new Map<string, { token: TokenRow; until: number }>();
  const pending = new Map<string, Promise<TokenRow | undefined>>();

  return {
    async verify(secret) {
      const key = hashToken(secret);
      const hit = verified.get(key);
      // An expiry passes at its own time, not when the cache next asks Postgres.
      if (hit && hit.until > now() && !(hit.token.expiresAt && hit.token.expiresAt.getTime() <= now())) {
        return hit.token;
      }
      verified.delete(key);
      const inFlight = pending.get(key);
      if (inFlight) {
        return inFlight;
      }
      const found = lookup(secret).then((token) => {
        if (token && ttlMs > 0) {
          if (verified.size >= MAX_ENTRIES) {
            const [oldest] = verified.keys();
            if (oldest !== undefined) {
              verified.delete(oldest);
            }
          }
          verified.set(key, { token, until: now() + ttlMs });
        }
        return token;
      });
      pending.set(key, found);
      try {
        return await found;
      } finally {
        pending.delete(key);
      }
    },
    forget(tokenId) {
      for (const [key, entry] of verified) {
        if (entry.token.id === tokenId) {
          verified.delete(key);
        }
      }
    },
  };
}
