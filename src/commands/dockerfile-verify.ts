/**
 * `strata dockerfile --verify`: build what was written with the local engine, read the result back
 * as any image, and compare its final view with the original's minus what was left out. A base
 * with no name is loaded into the engine first, made of the original's own base layers, and passed
 * as the BASE build argument. Everything this makes in the engine is removed again, but the rebuilt
 * image when it is asked for by name (--tag).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageModel } from '../model/read-image.js';
import { readImage } from '../model/read-image.js';
import { openImage } from '../sources/resolve.js';
import type { BloatConfig } from '../analyze/bloat/section.js';
import type { DockerfilePlan } from '../analyze/dockerfile/types.js';
import { leftOutPredicate } from '../analyze/dockerfile/left-out.js';
import { verifyRebuild, type VerifyResult } from '../analyze/dockerfile/verify.js';
import { buildImage } from '../write/build-image.js';
import { writeLocal } from '../write/image-out.js';
import { buildWithEngine, chooseEngine, loadArchive, removeBuilt, type BuildEngine } from '../write/engine-build.js';
import { BASE_ARG, fromName } from '../render/dockerfile.js';
import type { Loading } from './common.js';

export type EngineName = BuildEngine;

/**
 * The original as the base of its own rebuild: its layers, and a config that keeps only the
 * environment (PATH…), not the final USER, WORKDIR or CMD, which the base image did not have.
 */
function baseOnly(model: ImageModel): ImageModel {
  const raw = model.image.rawConfig ?? model.image.config;
  const env = raw.config?.Env;
  return { ...model, image: { ...model.image, rawConfig: { ...raw, config: env ? { Env: env } : {} } } };
}

export interface DockerfileVerification extends VerifyResult {
  engine: BuildEngine;
}

export async function verifyDockerfile(
  model: ImageModel,
  plan: DockerfilePlan,
  dir: string,
  opts: { engine?: BuildEngine; network?: string; bloat: BloatConfig; loading?: Loading; keep?: string; onStep?: (line: string) => void },
): Promise<DockerfileVerification> {
  const engine = opts.engine ?? (await chooseEngine());
  const id = randomBytes(6).toString('hex');
  const tag = opts.keep ?? `strata-verify:${id}`;
  const made: string[] = [];
  const scratch = await mkdtemp(join(process.env.TMPDIR ?? tmpdir(), 'strata-verify-'));
  try {
    const buildArgs: Record<string, string> = {};
    // the Dockerfile's FROM is the BASE argument: this image's own base, loaded
    if (fromName(plan.base) === null && plan.base.layers > 0) {
      const baseTag = `strata-verify-base:${id}`;
      const archive = join(scratch, 'base.tar');
      const img = await buildImage(baseOnly(model), { base: plan.base.layers, layers: [], dropped: [] }, 'none', { dir: scratch, output: archive }, undefined, { plainBase: true });
      await writeLocal(img, { kind: 'docker-archive', path: archive, tag: baseTag });
      await loadArchive(engine, archive);
      made.push(baseTag);
      buildArgs[BASE_ARG] = baseTag;
    }
    // docker's `Step 3/12 : …`, podman's and buildah's `STEP 3/12: …`: the build's progress
    const onLine = opts.onStep && ((line: string) => (/^step \d+\/\d+ ?:/i.test(line) ? opts.onStep!(line) : undefined));
    const built = await buildWithEngine(dir, { tag, engine, network: opts.network, buildArgs, onLine });
    if (!opts.keep) made.push(tag);
    // the command's workers, and its scans and unions by shared layers (the base the rebuild starts from)
    const loading = opts.loading;
    const rebuilt = await readImage(await openImage(built.ref), { pool: loading?.pool, memo: loading?.memo, prefixes: loading?.prefixes });
    const result = verifyRebuild(model, rebuilt, { leftOut: leftOutPredicate(model, plan, opts.bloat) });
    return { engine, ...result };
  } finally {
    for (const t of made.reverse()) await removeBuilt(engine, t).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}
