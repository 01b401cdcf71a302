/**
 * Issue 29, class 5: property-based fuzzing of the JSON readers. Arbitrary JSON values, and valid
 * documents with one field replaced by an arbitrary value, go through the real readers (in process:
 * readOciLayout and readDockerArchive over an in-memory tree; a few through the CLI). Property: the
 * read succeeds or fails with a StrataError whose message is one line; nothing else is thrown.
 * Bounded in time; the seed is logged, and STRATA_FUZZ_SEED replays a run.
 */
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { StrataError } from '../src/util/errors.js';
import type { FileTree } from '../src/sources/file-tree.js';
import { readOciLayout } from '../src/sources/oci-layout.js';
import { readDockerArchive } from '../src/sources/docker-archive.js';
import { parseJson } from '../src/util/json-doc.js';
import { IndexSchema } from '../src/image/oci.js';
import { blobPath, dockerArchiveFiles, ociLayoutFiles, sha256, tempDir, writeDir, type Files } from './helpers/image-builder.js';
import { refuses } from './helpers/hostile.js';
import { file } from './helpers/tar-writer.js';

const seed = process.env.STRATA_FUZZ_SEED ? Number(process.env.STRATA_FUZZ_SEED) : Date.now() % 2 ** 31;
/** Per property: five properties stay within about 20 s. */
const TIME_MS = 3500;

/** A file tree in memory: what the readers see of an archive, without the disk. */
class MemTree implements FileTree {
  constructor(readonly name: string, private readonly files: Map<string, Buffer>) {}
  has(p: string) {
    return this.files.has(p);
  }
  size(p: string) {
    return this.files.get(p)?.length;
  }
  async read(p: string) {
    const b = this.files.get(p);
    if (!b) throw new StrataError(`${this.name}: missing ${p}`);
    return b;
  }
  open(p: string): AsyncIterable<Buffer> {
    const b = this.files.get(p);
    return (async function* () {
      if (b) yield b;
    })();
  }
}

const toMem = (files: Files) => new Map([...files].filter((e): e is [string, Buffer] => Buffer.isBuffer(e[1])));
const spec = { layers: [{ entries: [file('etc/motd', 'hi\n')] }], tags: ['app:1'] };
const layout = ociLayoutFiles({ images: [spec] });
const save = dockerArchiveFiles({ images: [spec] });

/** The property: a StrataError of one line, or a result. */
async function readsOrRefuses(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (e) {
    if (!(e instanceof StrataError)) throw e;
    if (e.message.includes('\n') || e.message.length > 600) throw new Error(`not one short line: ${JSON.stringify(e.message.slice(0, 300))}`);
    return true;
  }
}

/** `doc` with the value at one of its paths (chosen by `pick`) replaced by `value`. */
function mutate(doc: unknown, pick: number, value: unknown): unknown {
  const paths: (string | number)[][] = [[]];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (v === null || typeof v !== 'object') return;
    for (const [k, c] of Object.entries(v)) {
      const p = [...path, Array.isArray(v) ? Number(k) : k];
      paths.push(p);
      walk(c, p);
    }
  };
  walk(doc, []);
  const path = paths[pick % paths.length];
  if (path.length === 0) return value;
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[path[path.length - 1]] = value;
  return copy;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'null');
const parsed = (b: Buffer) => JSON.parse(b.toString()) as unknown;
const anyJson = fc.jsonValue({ maxDepth: 4 });
const params = (t: ExecutionContext) => {
  t.log(`seed ${seed} (replay with STRATA_FUZZ_SEED=${seed})`);
  return { seed, interruptAfterTimeLimit: TIME_MS, numRuns: 100_000 };
};

/** An OCI layout whose manifest (or config) is `bytes`, stored under its digest and pointed at. */
function withManifest(manifest: Buffer): Map<string, Buffer> {
  const files = toMem(layout.files);
  files.set(blobPath(sha256(manifest)), manifest);
  files.set('index.json', json({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length }] }));
  return files;
}

test('index.json: arbitrary JSON values and mutations of a valid index', async (t) => {
  const index = parsed(layout.files.get('index.json') as Buffer);
  const doc = fc.oneof(anyJson, fc.tuple(fc.nat(), anyJson).map(([pick, v]) => mutate(index, pick, v)));
  await fc.assert(fc.asyncProperty(doc, (d) => {
    const files = toMem(layout.files);
    files.set('index.json', json(d));
    return readsOrRefuses(() => readOciLayout(new MemTree('layout', files), 'layout', 'oci', {}));
  }), params(t));
  t.pass();
});

test('manifest: mutations of a valid manifest, stored under their own digest', async (t) => {
  const manifest = parsed(layout.images[0].manifest);
  await fc.assert(fc.asyncProperty(fc.nat(), anyJson, (pick, v) => {
    const files = withManifest(json(mutate(manifest, pick, v)));
    return readsOrRefuses(() => readOciLayout(new MemTree('layout', files), 'layout', 'oci', {}));
  }), params(t));
  t.pass();
});

test('config: mutations of a valid image config', async (t) => {
  const config = parsed(layout.images[0].config);
  await fc.assert(fc.asyncProperty(fc.nat(), anyJson, (pick, v) => {
    const bytes = json(mutate(config, pick, v));
    const m = parsed(layout.images[0].manifest) as { config: { digest: string; size: number } };
    m.config = { ...m.config, digest: sha256(bytes), size: bytes.length };
    const files = withManifest(json(m));
    files.set(blobPath(sha256(bytes)), bytes);
    return readsOrRefuses(() => readOciLayout(new MemTree('layout', files), 'layout', 'oci', {}));
  }), params(t));
  t.pass();
});

test('docker save manifest.json: arbitrary values and mutations, with and without a tag asked for', async (t) => {
  const manifest = parsed(save.files.get('manifest.json') as Buffer);
  const doc = fc.oneof(anyJson, fc.tuple(fc.nat(), anyJson).map(([pick, v]) => mutate(manifest, pick, v)));
  await fc.assert(fc.asyncProperty(doc, fc.option(fc.constantFrom('app:1', '1', 'other')), (d, tag) => {
    const files = toMem(save.files);
    files.set('manifest.json', json(d));
    return readsOrRefuses(() => readDockerArchive(new MemTree('save.tar', files), 'save.tar', 'docker-archive', { tag: tag ?? undefined }));
  }), params(t));
  t.pass();
});

test('parseJson: arbitrary bytes and strings are a value or one short line', async (t) => {
  const input = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), anyJson.map((v) => JSON.stringify(v).slice(0, -1)));
  await fc.assert(fc.asyncProperty(input, (s) => readsOrRefuses(async () => parseJson(s, IndexSchema, 'index.json'))), params(t));
  t.pass();
});

test('through the CLI: index.json with a field made null, [null] or a string is refused in one line', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const index = parsed(layout.files.get('index.json') as Buffer) as { manifests: Record<string, unknown>[] };
  // each of these fields must be an object, an array, a number or a digest: every value below is wrong for it
  // (a digest field names the string it refused, short and escaped; the others name its type)
  const at: ((d: typeof index, v: unknown) => unknown)[] = [
    (_d, v) => v,
    (d, v) => ({ ...d, manifests: v }),
    (d, v) => ({ ...d, manifests: [v] }),
    (d, v) => ({ ...d, manifests: [{ ...d.manifests[0], digest: v }] }),
    (d, v) => ({ ...d, manifests: [{ ...d.manifests[0], size: v }] }),
  ];
  const samples = fc.sample(fc.tuple(fc.constantFrom(...at), fc.constantFrom(null, [null], 'x')), { seed, numRuns: 3 });
  for (const [i, [put, v]] of samples.entries()) {
    const files = new Map(layout.files);
    files.set('index.json', json(put(index, v)));
    const d = writeDir(`${dir}/l${i}`, files);
    t.regex(await refuses(t, ['inspect', d], { ms: 20_000, rssMb: 300 }), new RegExp(`^${d}/index.json: .*must be .*, not (null|an array|a string|"x")$`));
  }
});
