import type { CommandModule } from 'yargs';
import { imageOptions, Loading, openForArgs, wholeNumber } from './common.js';
import { loadConfig } from './config-file.js';
import { chooseBase, type BaseArgs } from './base-choice.js';
import { existsSync } from 'node:fs';
import { terminalText } from '../util/terminal-text.js';
import { truncate } from '../render/text.js';
import { StrataError } from '../util/errors.js';
import { parseRef } from '../sources/resolve.js';
import { STRATA_VERSION } from '../util/version.js';
import { planDockerfile } from '../analyze/dockerfile/plan.js';
import type { DockerfileBaseSource } from '../analyze/dockerfile/types.js';
import { dockerfileJson, renderDockerfile, renderDockerfileSummary } from '../render/dockerfile.js';
import { checkOutputDir, writeDockerfileDir } from '../write/dockerfile-dir.js';
import { verifyDockerfile, type EngineName } from './dockerfile-verify.js';
import { renderVerify } from '../render/dockerfile-verify.js';

interface Args extends BaseArgs {
  output: string;
  from?: string;
  json?: boolean;
  config?: string;
  verify?: boolean;
  engine?: EngineName;
  buildNetwork?: string;
  tag?: string;
}

/**
 * What FROM can say of a base strata opened: an engine's or a registry's name as docker names it;
 * a file (an archive, a layout) has no name a build can pull, so FROM gets the placeholder (and
 * the renderer, one that is no image reference).
 */
function fromName(ref: string | undefined): string | null {
  if (ref === undefined) return null;
  for (const prefix of ['docker-daemon:', 'podman:', 'docker://']) if (ref.startsWith(prefix)) return ref.slice(prefix.length);
  const { kind, path } = parseRef(ref);
  if (kind !== undefined || existsSync(path) || ref === '-') return null;
  return ref;
}

/** On a terminal, the build's current step on one line, overwritten (its text is the image's: escaped, cut to the width). */
function stepLine(): ((line: string) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (line) => process.stderr.write(`\r\x1b[K${truncate(terminalText(line), Math.max((process.stderr.columns || 80) - 1, 20))}`);
}

export const dockerfileCommand: CommandModule<object, Args> = {
  command: 'dockerfile <image>',
  describe: 'write a Dockerfile and build context that rebuild the image without its leftovers',
  builder: (y) =>
    imageOptions(y)
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'a new directory: DIR/Dockerfile and DIR/context/' })
      .option('from', { type: 'string', describe: 'the base image (FROM): the image must start with its layers' })
      .option('base-layers', { type: 'string', coerce: wholeNumber('base-layers'), describe: 'leading layers that are the base (default: --from, else read from the history)' })
      .option('base-from-registry', { type: 'boolean', describe: "pull the base the manifest's annotation names (org.opencontainers.image.base.name) to check it; without it the annotation causes no network request and the history decides" })
      .option('verify', { type: 'boolean', describe: 'build the result with the local engine and compare its view with the original (exit 1 when they differ)' })
      .option('engine', { choices: ['docker', 'podman', 'buildah'], describe: 'the engine --verify builds with (default: the first that answers)' })
      .option('tag', { type: 'string', describe: '--verify: keep the rebuilt image in the engine under this name (default: removed after the comparison)' })
      .option('build-network', { type: 'string', describe: "--verify: the build's network (docker build --network), e.g. host" })
      .option('json', { type: 'boolean', describe: 'print the plan (and the verification) as JSON' })
      .option('config', { type: 'string', describe: 'config file for the bloat rules and secret settings (default: .strata.yml)' }) as never,
  handler: async (args) => {
    if (!args.output) throw new StrataError('dockerfile: name the output directory with -o');
    if (args.tag !== undefined && !args.verify) throw new StrataError('--tag names the image --verify builds: add --verify');
    const config = loadConfig({ file: args.config });
    await checkOutputDir(args.output);
    await Loading.with(async (loading) => {
      const opened = await openForArgs(args, { loading, secrets: config.secrets.scan });
      const model = await opened.read();
      const choice = await chooseBase(args, model.image, args.from === undefined ? undefined : { option: '--from', ref: args.from });
      const from: DockerfileBaseSource = choice.from === 'named' ? '--from' : choice.from;
      const plan = planDockerfile(model, { base: { layers: choice.base, from, ref: fromName(choice.ref) }, bloat: config.bloat, secrets: config.secrets });
      const text = renderDockerfile(plan, { ref: model.image.ref, configDigest: model.image.configDigest, version: STRATA_VERSION });
      await writeDockerfileDir(args.output, text, plan, model.image);
      const onStep = stepLine();
      const verified = args.verify
        ? await verifyDockerfile(model, plan, args.output, { engine: args.engine, network: args.buildNetwork, bloat: config.bloat, loading, keep: args.tag, onStep }).finally(() => {
            if (onStep) process.stderr.write('\r\x1b[K');
          })
        : null;
      if (args.json) process.stdout.write(`${JSON.stringify({ output: args.output, plan: dockerfileJson(plan), verify: verified }, null, 2)}\n`);
      else process.stdout.write(renderDockerfileSummary(plan, args.output) + (verified ? renderVerify(verified, {}) : ''));
      if (verified && !verified.equal) process.exitCode = 1;
    });
  },
};

