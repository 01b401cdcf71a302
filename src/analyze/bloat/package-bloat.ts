/**
 * Bloat the package databases make certain: a build toolchain left in the final image, and the
 * documentation and manuals packages installed. A file is only found here when no path rule
 * claimed it first, so every category stays disjoint.
 */
import type { PackageRow } from '../packages/types.js';
import { OS_ECOSYSTEMS } from '../packages/types.js';

export type PackageCategory = 'toolchain' | 'docs';

/**
 * Compilers, build tools and headers: needed to build, never to run. Runtime parts of a toolchain
 * (`libgcc-s1`, `libstdc++6`, `gcc-12-base`) are not listed: programs link against them.
 */
const TOOLCHAIN = /^(?:gcc|g\+\+|gcc-c\+\+|cpp|clang|llvm|make|cmake|build-essential|build-base|binutils|autoconf|automake|libtool|pkg-config|pkgconf|bison|flex|dpkg-dev|libc-dev-bin)(?:-\d+(?:\.\d+)*)?$|^binutils-|-(?:dev|devel)$/;

/** Where packages put documentation and manuals; a package's copyright file stays (licences ask for it). */
const DOC_DIRS = /^usr\/share\/(?:doc|man|info|gtk-doc|help)\//;
const COPYRIGHT = /^usr\/share\/doc\/[^/]+\/copyright$/;

export function isToolchain(row: Pick<PackageRow, 'ecosystem' | 'name'>): boolean {
  return OS_ECOSYSTEMS.has(row.ecosystem) && TOOLCHAIN.test(row.name);
}

/** The package category of a file of the final view (root-relative path) owned by `row`, if any. */
export function packageCategoryOf(row: PackageRow | undefined, path: string): PackageCategory | undefined {
  if (!row || !OS_ECOSYSTEMS.has(row.ecosystem)) return undefined;
  if (TOOLCHAIN.test(row.name)) return 'toolchain';
  if (DOC_DIRS.test(path) && !COPYRIGHT.test(path)) return 'docs';
  return undefined;
}
