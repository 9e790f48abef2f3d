/**
 * The local IMS: OAuth server-to-server clients and the tokens issued to
 * them, so the core's OAuth layer runs for real against this service.
 *
 * Tokens are HMAC-signed (subject, org, expiry) with a secret kept in the
 * data folder, so they survive a restart and cannot be forged; expired or
 * tampered tokens are refused.
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Layer, Option, Redacted } from "effect"
import { LRUCache } from "lru-cache"
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"

export interface ImsClient {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly orgId: string
}

/** The documented demo credential: what `npm start` and the README use. */
export const demoClient: ImsClient = {
  clientId: "rtcp-local",
  clientSecret: Redacted.make("rtcp-local-secret"),
  orgId: "RTCPLOCAL@AdobeOrg"
}

export interface TokenClaims {
  readonly sub: string
  readonly org: string
  /** Epoch ms. */
  readonly exp: number
}

export interface ImsOptions {
  readonly clients: ReadonlyArray<ImsClient>
  /** Seconds; IMS issues 24 h tokens. */
  readonly tokenTtlSeconds: number
  /** Where the signing secret lives; a fresh one per process when undefined. */
  readonly secretFile: string | undefined
}

export class ImsTokens extends Context.Tag("@rtcp/local-platform/ImsTokens")<
  ImsTokens,
  {
    readonly clients: ReadonlyArray<ImsClient>
    readonly tokenTtlSeconds: number
    readonly client: (clientId: string) => Option.Option<ImsClient>
    readonly issue: (client: ImsClient) => Effect.Effect<{ readonly token: string; readonly expiresIn: number }>
    /** The claims of a valid token; `None` when forged, malformed or expired. */
    readonly verify: (token: string) => Effect.Effect<Option.Option<TokenClaims>>
    /** `verify` at the time `now` (epoch ms), for a caller that already read its clock. */
    readonly verifyAt: (token: string, now: number) => Option.Option<TokenClaims>
    /** Makes every token issued so far invalid (fault injection: tokens expiring early). */
    readonly rotate: Effect.Effect<void>
  }
>() {}

const loadSecret = (file: string | undefined): Buffer => {
  if (file === undefined) return randomBytes(32)
  if (existsSync(file)) return Buffer.from(readFileSync(file, "utf8").trim(), "base64")
  const secret = randomBytes(32)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, secret.toString("base64"), { mode: 0o600 })
  return secret
}

export const layer = (options: ImsOptions) =>
  Layer.sync(ImsTokens, () => {
    let secret = loadSecret(options.secretFile)
    const sign = (payload: string) => createHmac("sha256", secret).update(payload).digest("base64url")
    // A caller presents the same token on request after request, and its
    // HMAC was a twentieth of a kept lookup's CPU: a token's signature is
    // checked once, its expiry on every request. Only tokens whose signature
    // held are kept (a forged one never is), and rotating the secret forgets them.
    const signed = new LRUCache<string, TokenClaims>({ max: 1024 })
    const verifyAt = (token: string, now: number): Option.Option<TokenClaims> => {
      let claims = signed.get(token)
      if (claims === undefined) {
        claims = verifySignature(token)
        if (claims === undefined) return Option.none()
        signed.set(token, claims)
      }
      return claims.exp > now ? Option.some(claims) : Option.none()
    }
    const verifySignature = (token: string): TokenClaims | undefined => {
      const [payload, signature, ...rest] = token.split(".")
      if (!payload || !signature || rest.length > 0) return undefined
      const expected = Buffer.from(sign(payload))
      const given = Buffer.from(signature)
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined
      try {
        const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenClaims
        return typeof claims === "object" && claims !== null && typeof claims.exp === "number" ? claims : undefined
      } catch {
        return undefined
      }
    }
    return ImsTokens.of({
      clients: options.clients,
      tokenTtlSeconds: options.tokenTtlSeconds,
      client: (clientId) => Option.fromNullable(options.clients.find((c) => c.clientId === clientId)),
      issue: (client) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const claims: TokenClaims = { sub: client.clientId, org: client.orgId, exp: now + options.tokenTtlSeconds * 1000 }
          const payload = Buffer.from(JSON.stringify(claims)).toString("base64url")
          return { token: `${payload}.${sign(payload)}`, expiresIn: options.tokenTtlSeconds }
        }),
      verify: (token) => Effect.map(Clock.currentTimeMillis, (now) => verifyAt(token, now)),
      verifyAt,
      rotate: Effect.sync(() => {
        secret = randomBytes(32)
        signed.clear()
      })
    })
  })
