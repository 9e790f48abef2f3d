/**
 * A small seeded PRNG (sfc32) and the helpers the generators need.
 *
 * Every profile draws from its own generator, keyed by (seed, profile index,
 * stream), so profile i never depends on how many profiles are generated and
 * one dataset's draws never shift another's. sfc32 is used rather than a
 * 32-bit-state generator such as mulberry32 because with a million profiles a
 * 32-bit seed space would give a few hundred pairs of profiles identical
 * randomness (and therefore identical ECIDs, merging unrelated people).
 */

/** Independent random streams per profile; adding a stream never changes the others. */
export const Stream = {
  customer: 1,
  web: 2,
  purchases: 3,
  anonymous: 4,
  anonymousWeb: 5,
  app: 6,
} as const;
export type Stream = (typeof Stream)[keyof typeof Stream];

const TWO_POW_32 = 4294967296;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, index: number, stream: Stream) {
    // The initial state is injective in (seed, index, stream) and each step is a
    // bijection, so distinct profiles can never replay the same sequence.
    this.a = seed >>> 0;
    this.b = index >>> 0;
    this.c = stream;
    this.d = 1;
    // Mix the highly structured seed words before anything is drawn.
    for (let n = 0; n < 15; n++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.uint32() / TWO_POW_32;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: ReadonlyArray<T>): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** Picks from `[value, weight]` pairs. */
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, weight] of choices) total += weight;
    let roll = this.float() * total;
    for (const [value, weight] of choices) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return (choices[choices.length - 1] as readonly [T, number])[0];
  }

  /** A string of decimal digits whose first digit is never 0. */
  digits(length: number): string {
    let out = String(this.int(1, 9));
    while (out.length < length) {
      // Nine digits per draw keeps 38-digit ECIDs to five draws.
      out += String(this.uint32() % 1_000_000_000).padStart(9, "0");
    }
    return out.slice(0, length);
  }
}

export const pad = (value: number, width: number): string => String(value).padStart(width, "0");
