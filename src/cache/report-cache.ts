/**
 * Whole inspect reports, keyed by what their analysis depends on: the layers' content (diffIDs), each
 * layer's instruction (history created_by and comment) and the analysis settings. So a second
 * `inspect` of an unchanged image reads no layer, and neither does one of an image with the same
 * layers under another config (a rebuild that only changed a label, CMD or ENV), compression or
 * source: the hit is told as this image's (its name, config and blobs: report.ts `restamp`). An
 * image that only shares some layers still reuses their records (layer-cache.ts). A hit stands for
 * an image only when each of its layers' bytes is known to give the diffID the key names, as for a
 * layer cache hit (read-image.ts `storeMayServe`).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseJson } from '../util/json-doc.js';
import { join } from 'node:path';
import type { Image } from '../image/image.js';
import { CACHE_SCHEMA, KeyedFiles, type CacheOptions } from './layer-cache.js';
import { layerHistory, storedLayers, storeMayServe, type RecordStore } from '../model/read-image.js';
import { baseLayersOf, narrowFindings, restamp, SCHEMA_VERSION, type InspectReport, type ReportOptions } from '../analyze/report.js';

/**
 * Raised when a fix changes what a report says about the same image (the JSON shape aside): reports
 * cached by an earlier strata are then misses rather than stale answers.
 * 2: a hardlink to a path written again in its layer keeps the first copy's content.
 * 3: directories a layer creates without entries of their own count among its changes.
 * 4: a hardlink to a file has its inode's mode, owner and xattrs.
 * 5: a path through a symlinked directory is applied where the link points.
 * 6: a hardlink to a symlink, fifo or device has its target's mode, owner and device numbers.
 * 7: the built-in rules (not in the key, so a change to them raises this): core dumps are
 *    `core.PID` with digits only; objects a toolchain installs are not build leftovers, nor
 *    debconf's database a cache, nor a package's documentation a log.
 * 8: reports carry risks (secrets, risky files); the built-in secret rules are not in the key either.
 * 9: secret values in instructions and Env are masked (their fingerprint) in the report.
 * 10: every string of the config is masked (labels, healthcheck, author…); control characters are
 *    kept raw in the report and escaped by each renderer.
 * 11: secret-looking files packages ship are reported apart (risks.shipped); one duplicate remedy per cause.
 * 12: reports carry the packages (docs/packages.md).
 * 13: layer records schema 5 (pip's direct_url.json kept).
 * 14: a path stored again in its layer is all the later entry; hardlinks keep a first symlink, fifo or
 *    device; removed paths and waste of paths a layer set and then deleted; AUFS names at the root
 *    only (layer records schema 6); a hardlink to a symlink or device compares as that symlink or device.
 */
export const ANALYSIS_REVISION = 14;

/** What a cached report must hold to be told as an image's (restamp, narrowFindings). */
const CachedReport = z.looseObject({
  schemaVersion: z.literal(SCHEMA_VERSION),
  layers: z.array(z.looseObject({ digest: z.string(), compression: z.string(), tarSize: z.number() })),
  summary: z.looseObject({}),
  risks: z.looseObject({}),
  findings: z.array(z.looseObject({ category: z.string() })),
});

export class ReportCache {
  private readonly files: KeyedFiles;
  /** `records`: the layer store whose digest map says whether a report may stand for an image's bytes. */
  constructor(opts: CacheOptions, private readonly records: RecordStore) {
    this.files = new KeyedFiles(join(opts.dir, `v${CACHE_SCHEMA}.${SCHEMA_VERSION}.${ANALYSIS_REVISION}`), opts.maxBytes);
  }

  /**
   * An archive on stdin has been read already and cannot be looked up again: nothing to save. An
   * engine's image is streamed too, but a later run finds it again (engine.ts opens a stand-in).
   */
  static applies(image: Image): boolean {
    return image.source === 'docker-daemon' || image.source === 'podman' || image.layers.every((l) => !l.scanned);
  }

  /** Reports are saved whole (every finding), so only the analysis settings key them, not --top or --category. */
  private key(image: Image, settings: ReportOptions): string {
    const history = layerHistory(image.config.history, image.layers.length);
    const what = {
      layers: image.layers.map((l, i) => [l.diffId, history[i]?.created_by ?? null, history[i]?.comment ?? null]),
      settings: { bloat: settings.bloat, secrets: settings.secrets ?? null, base: baseLayersOf(image) },
    };
    return `${createHash('sha256').update(JSON.stringify(what)).digest('hex')}.json`;
  }

  /**
   * The report of these layers under these settings, told as this image's and narrowed to their
   * --top and --category: `inspect` then `inspect --json` (or `strata ci`) analyses once.
   */
  async find(image: Image, settings: ReportOptions): Promise<InspectReport | undefined> {
    const buf = await this.files.get(this.key(image, settings));
    if (!buf || !(await storeMayServe(image, this.records))) return undefined;
    let r: InspectReport;
    try {
      r = parseJson(buf, CachedReport, 'cached report') as unknown as InspectReport;
    } catch {
      return undefined; // damaged: a miss, and rewritten
    }
    if (r.layers.length !== image.layers.length) return undefined;
    const stored = await storedLayers(image, r.layers);
    return stored && { ...restamp(r, image, stored), findings: narrowFindings(r.findings, settings) };
  }

  /** `report`: made with every finding (inspectReport without --top or --category). */
  async put(image: Image, settings: ReportOptions, report: InspectReport): Promise<void> {
    await this.files.put(this.key(image, settings), Buffer.from(JSON.stringify(report)));
  }
}
