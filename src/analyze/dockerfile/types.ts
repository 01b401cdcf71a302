/**
 * `strata dockerfile`: what the layers above the base did, as the steps of a Dockerfile that
 * rebuilds the image without its leftovers (docs/dockerfile.md). Plain data: the renderer writes the
 * Dockerfile and the summary from it, the context writer the files.
 */
import type { Ecosystem } from '../packages/types.js';
import type { PlannedLayer } from '../optimize/plan.js';

/** What named the base: the options and evidence `optimize` reads, or nothing (one-layer image, `--base-layers 0`). */
export type DockerfileBaseSource = '--base-layers' | '--from' | 'annotation' | 'history';

export interface DockerfileBase {
  /** Leading layers the FROM image provides. */
  layers: number;
  from: DockerfileBaseSource;
  /** The image FROM names; null: a placeholder is written (`FROM scratch` when layers is 0). */
  ref: string | null;
}

/** One package step: a RUN line per ecosystem (and per site for pip/npm). */
export interface PackageStep {
  ecosystem: Ecosystem;
  /** Packages to install, pinned: `name=version` (deb), `name=version` (apk), `name-version` (rpm), `name==version` (pypi). */
  install: { name: string; version: string }[];
  /** Packages of the base the layers removed. */
  remove: string[];
  /** pypi: the interpreter that runs pip; npm: the project directory (holding package.json and the lock file). */
  where?: string;
  /** pypi: the packages pip was asked for (REQUESTED); the others are pinned as constraints. */
  explicit?: string[];
  /** pypi: the interpreter's packages are marked externally managed (PEP 668): pip needs --break-system-packages. */
  breakSystemPackages?: boolean;
  /** npm: the project's manifest files, copied before `npm ci` (absolute paths in the image). */
  manifests?: string[];
  /** Packages of the ecosystem left to the COPY lines (installed from a local file, no lock file…), and why. */
  copied?: { name: string; version: string; why: string }[];
}

/** A regular file of the context: written as `source/name`, its content read from the original layer's record row. */
export interface ContextFile {
  /** Relative to the COPY's destination: `app/run.sh` under `/`. */
  name: string;
  /** Permission bits (special bits are set by a RUN: COPY drops them). */
  mode: number;
  size: number;
  /** A regular file's content: the original layer and record row. */
  source?: { layer: number; row: number };
  /** A symlink's target: COPY copies a link as a link. */
  link?: string;
}

/** A directory of a COPY's tree: COPY gives it the COPY's owner and this mode (the image's). */
export interface ContextDir {
  /** Relative to the COPY's destination. */
  name: string;
  mode: number;
}

/** One COPY: every file of `files` (context-relative under `source`) goes to `dest`, owned by uid:gid. */
export interface CopyStep {
  /** Context directory (relative to DIR/context), a name strata chose: `files/0001`. */
  source: string;
  /**
   * Absolute destination directory in the image; it exists when the COPY runs and the COPY leaves it
   * as it is. Every directory between it and a file is owned by uid:gid in the image: the COPY makes
   * them, or gives them that owner and their mode again.
   */
  dest: string;
  uid: number;
  gid: number;
  /** npm manifests (package.json and the lock file): copied before `npm ci` runs. */
  manifests?: true;
  entries: number;
  bytes: number;
  /** The files and the directories of the tree (not in the JSON summary: the context holds them). */
  items: ContextFile[];
  dirs: ContextDir[];
  /** The directories its files are in, for the comment above the COPY: `/app` (2 files). */
  tops: { path: string; files: number }[];
}

/** A directory created or re-moded above the base (no package made it). */
export interface DirStep {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  /** It existed in the base (only its metadata changed). */
  existed: boolean;
}

export interface LinkStep {
  path: string;
  target: string;
  uid: number;
  gid: number;
}

/** Special bits (setuid, setgid, sticky) COPY cannot carry, and file capabilities. */
export interface ModeStep {
  path: string;
  mode: number;
  /** getcap text (`cap_net_raw+ep`), when the file has capabilities. */
  capabilities?: string;
  /** Other xattrs (name -> base64) set with setfattr. */
  xattrs?: Record<string, string>;
}

export interface LeftOutPath {
  path: string;
  bytes: number;
  /** A bloat category (temp, log, cache, vcs, history, build, core-dump, or a custom one), or `regenerated`. */
  category: string;
}

export interface LeftOutSecret {
  path: string;
  rule: string;
  /** The first content match's fingerprint; null for a finding by name alone. */
  fingerprint: string | null;
  remedy: string;
}

/** One Dockerfile instruction carried over from the image config (already masked). */
export interface ConfigLine {
  /** `ENV`, `USER`, `WORKDIR`, `EXPOSE`, `VOLUME`, `LABEL`, `ENTRYPOINT`, `CMD`, `HEALTHCHECK`, `STOPSIGNAL`, `SHELL`, `ARG`. */
  instruction: string;
  /** The arguments, already in Dockerfile syntax (JSON arrays for exec forms, quoted values). */
  text: string;
  /** A comment written above it (a masked secret, a value that cannot be expressed). */
  note?: string;
}

/**
 * Hardlinked files: a COPY stores each name as a file of its own and an `ln` in a later layer cannot
 * join two layers' files, so each group is written into one tar that ADD unpacks (it keeps links).
 */
export interface LinkArchive {
  /** The tar, relative to DIR/context. */
  source: string;
  /** Every path of the groups, absolute. */
  paths: string[];
  bytes: number;
  /** What the tar holds (not in the JSON summary). */
  layer: PlannedLayer;
}

export interface DockerfilePlan {
  base: DockerfileBase;
  /** The original history (created_by), as comments. */
  history: string[];
  packages: PackageStep[];
  /** Base paths the layers deleted (and no package removal explains): `RUN rm -rf`. */
  removed: string[];
  dirs: DirStep[];
  copies: CopyStep[];
  /** Symlinks: in the COPY trees (COPY copies a link as a link, FROM scratch included), listed here. */
  symlinks: LinkStep[];
  /** Hardlinks to what the build does not copy (a base file, a package's): `ln TARGET PATH` after the COPYs. */
  hardlinks: LinkStep[];
  /** Hardlink groups the build copies: one tar. */
  linked: LinkArchive | null;
  modes: ModeStep[];
  config: ConfigLine[];
  leftOut: LeftOutPath[];
  secrets: LeftOutSecret[];
  /** What could not be carried over, in a sentence each (device files, a capability without setcap in the image…). */
  notes: string[];
}
