/**
 * npm packages: every `node_modules/NAME/package.json` and `node_modules/@SCOPE/NAME/package.json`,
 * at any depth (docs/packages.md#npm). As npm's arborist loads a tree, a folder whose name starts
 * with a dot (`.bin`, `.cache`, a retired `@scope/.name`) holds no package; the package sits right
 * below the last node_modules of its path, so pnpm's store (`node_modules/.pnpm/x@1/node_modules/x`)
 * and yarn's unplugged folders count too: they hold the installed code. The package owns its
 * folder minus nested node_modules (ownership.ts); its database is nothing but that package.json.
 */
import { z } from 'zod';
import { StrataError } from '../../util/errors.js';
import { excerpt, parseJson } from '../../util/json-doc.js';
import { parentOf } from '../../util/paths.js';
import type { DocView, PackageEntry, PackageReader, ReadResult } from './types.js';

/**
 * A name the registry could hold (validate-npm-package-name, old names' capitals allowed): a
 * `__proto__` key or a sentence in `name` is none.
 */
const NPM_NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~!'()*-]*$/i;
const MAX_NAME_LENGTH = 214;

// npm reads package.json as Node's utf8 does: a BOM dropped, a stray byte replaced, never refused
const utf8 = new TextDecoder();

export const npmReader: PackageReader = { ecosystem: 'npm', read };

function read(view: DocView): ReadResult {
  const packages: PackageEntry[] = [];
  const warnings: string[] = [];
  for (const path of [...view.paths()].sort()) {
    const folder = packageFolder(path);
    if (folder === undefined) continue;
    const bytes = view.get(path)!;
    const where = `layer ${view.layerOf(path)} /${path}`;
    // every view that sees this copy of the file reads the same package: parsed once
    let known = parsed.get(bytes);
    if (known?.where !== where) parsed.set(bytes, (known = { where, ...readPackage(bytes, where, path, folder) }));
    if (known.entry) packages.push({ ...known.entry });
    warnings.push(...known.warnings);
  }
  return { packages, warnings };
}

/** What a copy of a package.json says, by its bytes (one copy, one path and layer: the scan's). */
const parsed = new WeakMap<Uint8Array, { where: string; entry?: PackageEntry; warnings: string[] }>();

/** `NAME` or `@SCOPE/NAME` when `path` is the package.json of a package folder of a node_modules. */
function packageFolder(path: string): string | undefined {
  if (!path.endsWith('/package.json')) return undefined;
  const parts = path.split('/');
  const n = parts.length;
  const name = parts[n - 2];
  if (name === '' || name.startsWith('.')) return undefined;
  if (parts[n - 3] === 'node_modules') return name.startsWith('@') ? undefined : name;
  const scope = parts[n - 3];
  if (parts[n - 4] === 'node_modules' && scope !== undefined && scope.length > 1 && scope.startsWith('@')) return `${scope}/${name}`;
  return undefined;
}

function readPackage(bytes: Uint8Array, where: string, path: string, folder: string): { entry?: PackageEntry; warnings: string[] } {
  const warnings: string[] = [];
  let doc: unknown;
  try {
    doc = parseJson(utf8.decode(bytes), z.unknown(), where);
  } catch (err) {
    if (!(err instanceof StrataError)) throw err;
    return { warnings: [`${err.message}: not listed`] };
  }
  if (!isObject(doc)) return { warnings: [`${where}: not a JSON object: not listed`] };
  const declared = own(doc, 'name');
  const named = typeof declared === 'string' && isPackageName(declared);
  // an alias (`npm install b@npm:a`) sits in folder b and is package a, as its purl must say;
  // `npm ls` shows both (`b@npm:a@1.0.0`); without a usable name, npm goes by the folder
  if (declared !== undefined && !named) warnings.push(`${where}: name ${shownValue(declared)} is not a package name: the folder name is used`);
  const version = own(doc, 'version');
  if (version !== undefined && typeof version !== 'string') warnings.push(`${where}: version ${shownValue(version)} is not a string`);
  const license = licenseOf(doc);
  const entry: PackageEntry = {
    ecosystem: 'npm',
    name: named ? declared : folder,
    version: typeof version === 'string' ? version : '',
    ...(license === undefined ? {} : { license }),
    path,
    files: [],
    dir: parentOf(path),
    depends: dependsOf(doc),
  };
  return { entry, warnings };
}

function isPackageName(s: string): boolean {
  return s.length <= MAX_NAME_LENGTH && NPM_NAME.test(s);
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A member of the document itself, never one inherited from Object.prototype (`constructor`, `toString`). */
function own(o: JsonObject, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

function shownValue(v: unknown): string {
  if (typeof v === 'string') return excerpt(v);
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** `license`: an SPDX expression, or the legacy `{ type }`; else the legacy `licenses` list (any of them: OR). */
function licenseOf(doc: JsonObject): string | undefined {
  const license = own(doc, 'license');
  const typeOf = (v: unknown) => (typeof v === 'string' ? v : isObject(v) && typeof own(v, 'type') === 'string' ? (own(v, 'type') as string) : '');
  if (typeOf(license) !== '') return typeOf(license);
  const list = own(doc, 'licenses');
  const names = (Array.isArray(list) ? list : [list]).map(typeOf).filter((s) => s !== '');
  return names.length > 0 ? names.join(' OR ') : undefined;
}

/** What npm installs for it: dependencies and optionalDependencies (esbuild's platform binaries are optional ones). */
function dependsOf(doc: JsonObject): string[] {
  const out = new Set<string>();
  for (const field of ['dependencies', 'optionalDependencies']) {
    const deps = own(doc, field);
    if (isObject(deps)) for (const name of Object.keys(deps)) if (isPackageName(name)) out.add(name);
  }
  return [...out];
}
