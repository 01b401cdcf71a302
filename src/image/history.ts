/**
 * The one reader of a history entry's `created_by`. Builders write it in a few shapes:
 *   - classic Docker: `/bin/sh -c #(nop) COPY file:… in /x` (metadata and COPY/ADD steps) or
 *     `/bin/sh -c apt-get …` (RUN);
 *   - Docker/BuildKit with build args: `|2 A=1 B=2 /bin/sh -c make`;
 *   - BuildKit and buildah: the Dockerfile line itself (`COPY . /app # buildkit`, `RUN … # buildkit`);
 *   - docker commit: the container's command (`sh -c …`); buildah commit: `/bin/sh`; imports: anything.
 * It is parsed once into its parts, and each reader takes the view it needs: a Dockerfile-like text
 * (renderers, findings), a key that matches the same step across builders (diff), the kind of step
 * (bloat remedies).
 */

export type Step = 'copy' | 'run' | 'other';

interface CreatedBy {
  /** The whole value, trimmed. */
  raw: string;
  /** A `|N A=1 …` build-arg prefix was there. */
  buildArgs: boolean;
  /** The shell prefix: `/bin/sh -c ` (full), `sh -c ` (bare), or none. */
  shell: 'full' | 'bare' | null;
  /** `#(nop)` followed the shell prefix: a metadata or COPY/ADD step. */
  nop: boolean;
  /** What follows the prefixes. */
  body: string;
}

const BUILD_ARGS = /^\|\d+ (?:\S+=\S* )*/;
const SHELL = /^(\/bin\/)?sh -c /;
const NOP = /^#\(nop\)\s*/;

function parse(createdBy: string): CreatedBy {
  const raw = createdBy.trim();
  let rest = raw;
  const args = BUILD_ARGS.exec(rest);
  if (args) rest = rest.slice(args[0].length);
  const shell = SHELL.exec(rest);
  if (shell) rest = rest.slice(shell[0].length);
  const nop = shell ? NOP.exec(rest) : null;
  if (nop) rest = rest.slice(nop[0].length);
  return { raw, buildArgs: !!args, shell: shell ? (shell[1] ? 'full' : 'bare') : null, nop: !!nop, body: rest };
}

const collapse = (s: string) => s.replace(/\s+/g, ' ');

/** A Dockerfile-like rendering (`RUN make`, `COPY file:… in /x`); the comment when there is no created_by. */
export function instructionText(createdBy: string | undefined, comment?: string): string {
  if (!createdBy) return comment ? `(${comment})` : '';
  const c = parse(createdBy);
  if (c.shell === 'full' && !c.buildArgs) return c.nop ? c.body.trim() : `RUN ${c.body}`;
  if (c.shell === 'full') return collapse(c.nop ? c.body : `RUN ${c.body}`);
  return collapse(c.raw);
}

/** The instruction normalised so that the same step matches across builders and rebuilds. */
export function instructionKey(createdBy: string | undefined): string {
  if (!createdBy) return '';
  const c = parse(collapse(createdBy));
  const s = c.shell ? (c.nop ? c.body : `RUN ${c.body}`) : c.body;
  return s.replace(/\b(dir|file|multi):[0-9a-f]{16,}/g, '$1:…'); // COPY source digests differ per builder
}

/** What kind of build step made a layer. */
export function stepOf(createdBy: string | undefined): Step {
  if (!createdBy) return 'other';
  const c = parse(createdBy);
  if (c.nop) return /^(COPY|ADD)\b/.test(c.body) ? 'copy' : 'other';
  if (/^(COPY|ADD)\b/.test(c.raw)) return 'copy';
  if (c.raw.includes('#(nop)')) return 'other';
  if (c.shell === 'full' || c.buildArgs || /^RUN\b/.test(c.raw)) return 'run';
  return 'other'; // docker commit ("sh -c …"), buildah commit ("/bin/sh"), imports
}
