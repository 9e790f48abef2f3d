#!/usr/bin/env node
/**
 * Writes the Luma seed data as NDJSON, one file per dataset, plus datasets.json.
 * Files are streamed, so a million profiles need no more memory than ten.
 */
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { DEFAULT_EVENTS_PER_PROFILE, DEFAULT_SEED, datasets, records, type SeedOptions } from "./index.js";

const usage = `Usage: seed --profiles N --out DIR [--seed N] [--anchor ISO] [--events N]

Generates deterministic synthetic Luma customer data for Real-Time Customer Profile.

  --profiles N   number of customers (anonymous visitors add about 10% more)
  --out DIR      output directory (created if missing)
  --seed N       random seed (default ${DEFAULT_SEED})
  --anchor ISO   instant all events end at (default: today 00:00 UTC);
                 pass it explicitly for byte-identical output across days
  --events N     average page views per customer (default ${DEFAULT_EVENTS_PER_PROFILE})
  -h, --help     show this help

Writes DIR/datasets.json and DIR/<dataset>.ndjson for ${datasets.map((d) => d.key).join(", ")}.`;

// Lines are batched because one write() per record costs more than generating it.
const CHUNK_CHARS = 1 << 16;

function* ndjson(lines: Iterable<Record<string, unknown>>, count: { n: number }): Generator<string> {
  let chunk = "";
  for (const record of lines) {
    chunk += JSON.stringify(record) + "\n";
    count.n++;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}

const fail = (message: string): never => {
  process.stderr.write(`${message}\n\n${usage}\n`);
  process.exit(2);
};

const integer = (flag: string, value: string | undefined, min: number): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) fail(`--${flag} must be an integer >= ${min}, got "${value}"`);
  return n;
};

const parse = () => {
  try {
    return parseArgs({
      options: {
        profiles: { type: "string" },
        out: { type: "string" },
        seed: { type: "string" },
        anchor: { type: "string" },
        events: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
};

const main = async (): Promise<void> => {
  const { values } = parse();
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const profiles = integer("profiles", values.profiles, 0) ?? fail("--profiles is required");
  const out = values.out ?? fail("--out is required");
  const seed = integer("seed", values.seed, 0) ?? DEFAULT_SEED;
  const eventsPerProfile = integer("events", values.events, 0) ?? DEFAULT_EVENTS_PER_PROFILE;
  const today = new Date();
  const anchor = values.anchor
    ? new Date(values.anchor)
    : new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
  if (Number.isNaN(anchor.getTime())) fail(`--anchor is not a valid ISO date: "${values.anchor}"`);

  const options: SeedOptions = { profiles, seed, anchor, eventsPerProfile };
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "datasets.json"), `${JSON.stringify(datasets, null, 2)}\n`);
  process.stdout.write(`seed ${seed}, anchor ${anchor.toISOString()}, ${profiles} profiles -> ${out}\n`);

  const started = performance.now();
  for (const spec of datasets) {
    const t0 = performance.now();
    const count = { n: 0 };
    await pipeline(Readable.from(ndjson(records(spec.key, options), count)), createWriteStream(join(out, spec.file)));
    const seconds = ((performance.now() - t0) / 1000).toFixed(2);
    process.stdout.write(`  ${spec.file.padEnd(18)} ${String(count.n).padStart(10)} records  ${seconds} s\n`);
  }
  process.stdout.write(`done in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
