/**
 * The built-in bloat rules: which visible files are leftovers of the build, and how to avoid them.
 * Rules are tried in order and the first match wins, so the specific ones come first (a core dump
 * in /tmp is a core dump; a log inside a pip cache is cache). Users extend or disable them in the
 * config file (bloat/section.ts); their own rules are tried before these.
 */
export interface BloatRule {
  id: string;
  category: string;
  /** Globs (src/util/glob.ts). */
  paths: string[];
  /** Globs of paths `paths` match that are not leftovers (what packages install): no rule matches them. */
  except?: string[];
  /** The fix, in build terms. */
  remedy: string;
  /** A .dockerignore entry to suggest when the files came in with COPY/ADD. */
  dockerignore?: string;
}

/** Categories of visible files matched by rules (custom rules may add their own). */
export const RULE_CATEGORIES = ['temp', 'log', 'cache', 'vcs', 'build', 'history', 'core-dump'] as const;
/** Categories of bytes stored in layers but not visible in the final image. */
export const WASTE_CATEGORIES = ['deleted', 'overwritten', 'metadata-copy'] as const;
/** Categories computed from the whole image rather than by path rules. */
export const IMAGE_CATEGORIES = ['duplicate', 'commit-build'] as const;
/** Categories found through the package databases (package-bloat.ts). */
export const PACKAGE_CATEGORIES = ['toolchain', 'docs'] as const;

export const RESERVED_CATEGORIES: readonly string[] = [...WASTE_CATEGORIES, ...IMAGE_CATEGORIES, ...PACKAGE_CATEGORIES];

const sameRun = 'in the same RUN that creates them';

/** `NAME.PID`, digits only (`core.5.gz` is a man page, not a dump); Linux PIDs have at most 7 digits. */
const withPid = (name: string) => Array.from({ length: 7 }, (_, i) => `${name}.${'[0-9]'.repeat(i + 1)}`);

export const BUILTIN_RULES: readonly BloatRule[] = [
  {
    id: 'core-dumps',
    category: 'core-dump',
    paths: ['core', ...withPid('core'), ...withPid('vgcore'), 'hs_err_pid*.log'],
    remedy: 'A process crashed during the build and left a core dump: delete it and fix the crash; add "core*" to .dockerignore if it came from the build context.',
    dockerignore: '**/core*',
  },
  {
    id: 'shell-history',
    category: 'history',
    paths: ['.bash_history', '.ash_history', '.sh_history', '.zsh_history', '.python_history', '.node_repl_history', '.mysql_history', '.psql_history', '.sqlite_history', '.lesshst', '.viminfo', '*.swp', '*.swo'],
    remedy: 'Shell and editor history comes from an interactive session (typical of docker commit): prefer a Dockerfile build over docker commit, and delete these files.',
    dockerignore: '**/.*_history',
  },
  {
    id: 'vcs',
    category: 'vcs',
    paths: ['**/.git/**', '**/.svn/**', '**/.hg/**', '**/.bzr/**'],
    remedy: 'Version-control metadata is not needed at run time: add ".git" to .dockerignore when copying a checkout, or clone with --depth 1 and remove .git in the same RUN.',
    dockerignore: '.git',
  },
  {
    id: 'apt-lists',
    category: 'cache',
    paths: ['/var/lib/apt/lists/**'],
    remedy: 'Clean the apt lists in the same RUN as apt-get update: RUN apt-get update && apt-get install -y --no-install-recommends … && rm -rf /var/lib/apt/lists/*',
  },
  {
    id: 'apt-archives',
    category: 'cache',
    paths: ['/var/cache/apt/**'],
    remedy: 'Run apt-get clean (or rm -rf /var/cache/apt/*) in the same RUN as apt-get install.',
  },
  {
    id: 'apk-cache',
    category: 'cache',
    paths: ['/var/cache/apk/**', '/etc/apk/cache/**'],
    remedy: 'Use apk add --no-cache.',
  },
  {
    id: 'dnf-yum-cache',
    category: 'cache',
    paths: ['/var/cache/dnf/**', '/var/cache/yum/**', '/var/cache/zypp/**'],
    remedy: 'Run dnf clean all (yum clean all) in the same RUN as the install, or install with --setopt=keepcache=0.',
  },
  {
    id: 'pip-cache',
    category: 'cache',
    paths: ['**/.cache/pip/**'],
    remedy: 'Use pip install --no-cache-dir (or a cache mount: RUN --mount=type=cache,target=/root/.cache/pip).',
  },
  {
    id: 'npm-cache',
    category: 'cache',
    paths: ['**/.npm/**'],
    remedy: 'Run npm cache clean --force in the same RUN as npm ci, or use a cache mount (RUN --mount=type=cache,target=/root/.npm).',
  },
  {
    id: 'yarn-cache',
    category: 'cache',
    paths: ['**/.cache/yarn/**', '**/.yarn/berry/cache/**', '**/.yarn-cache/**'],
    remedy: 'Run yarn cache clean in the same RUN as yarn install, or use a cache mount.',
  },
  {
    id: 'pnpm-store',
    category: 'cache',
    paths: ['**/.pnpm-store/**', '**/.local/share/pnpm/store/**', '**/.cache/pnpm/**'],
    remedy: 'Run pnpm store prune in the same RUN, or use a cache mount for the pnpm store.',
  },
  {
    id: 'go-cache',
    category: 'cache',
    paths: ['**/.cache/go-build/**', '**/go/pkg/mod/**'],
    remedy: 'Build in a separate stage and COPY only the binary (multi-stage build), or use cache mounts for /root/.cache/go-build and /go/pkg/mod.',
  },
  {
    id: 'maven-repo',
    category: 'cache',
    paths: ['**/.m2/repository/**'],
    remedy: 'Build in a separate stage and COPY only the artifact (multi-stage build), or use a cache mount for ~/.m2.',
  },
  {
    id: 'gradle-cache',
    category: 'cache',
    paths: ['**/.gradle/caches/**', '**/.gradle/wrapper/dists/**'],
    remedy: 'Build in a separate stage and COPY only the artifact (multi-stage build), or use a cache mount for ~/.gradle.',
  },
  {
    id: 'cargo-cache',
    category: 'cache',
    paths: ['**/.cargo/registry/**', '**/.cargo/git/**', '/usr/local/cargo/registry/**', '/usr/local/cargo/git/**'],
    remedy: 'Build in a separate stage and COPY only the binary (multi-stage build), or use cache mounts for the cargo registry.',
  },
  {
    id: 'var-cache',
    category: 'cache',
    paths: ['/var/cache/**'],
    // debconf's database, not a cache: Debian's own images keep it, and package scripts need it
    except: ['/var/cache/debconf/{config,templates,passwords}.dat'],
    remedy: 'Clear the cache in the same RUN that fills it (… && rm -rf /var/cache/NAME/*).',
  },
  {
    id: 'tmp',
    category: 'temp',
    paths: ['/tmp/**', '/var/tmp/**'],
    remedy: `Remove temporary files ${sameRun} (… && rm -rf /tmp/*), or build in a separate stage and COPY only the result (multi-stage build).`,
  },
  {
    id: 'logs',
    category: 'log',
    paths: ['/var/log/**', '*.log'],
    // documentation a package installs (test summaries, benchmark results), not a log of the build
    except: ['/usr/share/doc/**'],
    remedy: `Delete build logs ${sameRun} (or send the output to /dev/null); add "*.log" to .dockerignore if they came from the build context.`,
    dockerignore: '**/*.log',
  },
  {
    id: 'build-leftovers',
    category: 'build',
    paths: ['*.o', '*.obj', '*.lo', '**/CMakeFiles/**', 'CMakeCache.txt', '**/node_modules/.cache/**', '*.tsbuildinfo'],
    // objects a toolchain installs: GCC's own, the C library's start files, CPython's python.o (its -dev package, official images)
    except: ['/usr/lib/gcc/**', '/usr/libexec/gcc/**', '/usr/lib/gcc-cross/**', '{crt1,Scrt1,Mcrt1,gcrt1,grcrt1,rcrt1,crti,crtn}.o', '**/python[23]*/config*/**'],
    remedy: 'Intermediate build outputs: build in a separate stage and COPY only the result (multi-stage build), or delete them in the same RUN as the build.',
    dockerignore: '**/*.o',
  },
];
