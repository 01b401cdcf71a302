/**
 * The words of each finding: a title that says what happened, with the layers and paths, and a
 * remedy in build terms chosen by the build step that stored the bytes and the one that hid them
 * (src/image/history.ts stepOf). Plain strings: the findings module decides what is found.
 */
import type { Step } from '../../image/history.js';
import type { WastedItem } from '../waste.js';
import { plural } from '../../util/units.js';
import type { BloatRule } from './rules.js';

export interface Advice {
  title: string;
  remedy: string;
}

/** Up to three paths, then "and N more". */
export function pathList(paths: string[]): string {
  const shown = paths.slice(0, 3).join(', ');
  return paths.length > 3 ? `${shown} and ${paths.length - 3} more` : shown;
}


export function ruleAdvice(rule: BloatRule, layer: number, paths: string[], copied: boolean): Advice {
  const n = paths.length;
  return {
    title: `${n} ${rule.category} file${n === 1 ? '' : 's'} left in the image by layer ${layer} (rule ${rule.id}): ${pathList(paths)}`,
    remedy: copied && rule.dockerignore ? `These came in with COPY/ADD: add "${rule.dockerignore}" to .dockerignore. ${rule.remedy}` : rule.remedy,
  };
}

/**
 * Why one content sits at several paths (findings.ts decides): all copies written by one layer; a
 * later COPY/ADD bringing it in again; one hardlinked file split by layering (one copy per layer,
 * same mode, owner and mtime); a later RUN writing it again.
 */
export type DuplicateCause = 'same-layer' | 'copied-later' | 'linked-later' | 'stored-again';

export interface DuplicateGroup {
  cause: DuplicateCause;
  /** The oldest and the newest layer holding a copy. */
  first: number;
  last: number;
  /** The newest layer was a COPY/ADD. */
  copied: boolean;
}

/** Each cause its own words: what happened, and the fix that applies to it. */
export function duplicateAdvice(paths: string[], g: DuplicateGroup): Advice {
  const n = paths.length;
  const head = `${n} identical copies of the same content`;
  switch (g.cause) {
    case 'same-layer':
      return {
        title: `${head}, all stored by layer ${g.first}: ${pathList(paths)}`,
        remedy: g.copied
          ? `The build context holds the same file ${n} times and layer ${g.first} copied them all. Keep one copy: COPY it once and make the other paths symlinks, or keep the extras out of the context (.dockerignore).`
          : `One step (layer ${g.first}) wrote every copy: most likely a package's own files (a package manager installs each file it lists, identical or not). Keep one copy: hardlink the others (hardlink or rdfind -makehardlinks true) or delete them at the end of the same RUN that installs them; if the package needs them, list them under bloat.ignore.`,
      };
    case 'copied-later':
      return {
        title: `${head}, copied in again by layer ${g.last} (layer ${g.first} already stored it): ${pathList(paths)}`,
        remedy: `A later COPY/ADD stored content an earlier layer already has. COPY it once: drop it from the later COPY/ADD (or from the earlier step), and symlink the other path to it if both are needed.`,
      };
    case 'linked-later':
      return {
        title: `${head} (likely one hardlinked file in the build container, split by layers ${g.first} and ${g.last}): ${pathList(paths)}`,
        remedy: 'A hardlink created in a later layer to a file of a lower layer is stored as a full copy. Create the link in the same RUN that creates the file, or use a symlink.',
      };
    case 'stored-again':
      return {
        title: `${head}, written again by layer ${g.last} (layer ${g.first} already stored it): ${pathList(paths)}`,
        remedy: `A later RUN wrote content an earlier layer already holds (a tool or package installing its own copy). Keep one copy: remove the extra in the RUN that writes it and symlink to the existing file, or produce it in one step only.`,
      };
  }
}

export function commitAdvice(layer: number, categories: string[]): Advice {
  return {
    title: `layer ${layer} holds ${categories.join(', ')} files together in one fat layer: the signature of a committed container (docker commit)`,
    remedy: 'Prefer a Dockerfile build over docker commit: each RUN can clean up after itself and the build is reproducible. If you must commit, clear /tmp, /var/log and package caches in the container first.',
  };
}

export interface WasteGroup {
  category: string;
  /** The wasted copies, all stored by layer `stored` and hidden by layer `hiddenBy`. */
  items: WastedItem[];
  /** Their paths, `/`-prefixed, in item order. */
  paths: string[];
  stored: number;
  hiddenBy: number;
  storedStep: Step;
  hiddenStep: Step;
  /** The bloat rule holding most of the bytes, if any. */
  largestRule: BloatRule | undefined;
  /** `COPY --chown=… --chmod=…` with what the hiding layer set. */
  copyFlags: () => string;
}

export function wasteAdvice(g: WasteGroup): Advice {
  const { stored: S, hiddenBy: E } = g;
  const files = plural(g.items.length, 'file');
  const paths = pathList(g.paths);
  // A layer not made by a Dockerfile step, changed by one that is: most likely the base image.
  const fromBase = g.storedStep === 'other' && g.hiddenStep !== 'other';
  if (g.category === 'deleted') {
    const roots = [...new Set(g.items.map((it) => `/${it.deletedRoot ?? it.path}`))];
    let remedy = fromBase
      ? `Deleting in a later layer does not shrink the image: the bytes stay in layer ${S}, which looks like the base image. Choose a smaller base image (a slim, alpine or distroless variant), or build the base without these files.`
      : g.storedStep === 'copy'
        ? `Deleting in a later layer does not shrink the image: the bytes stay in layer ${S}, which copied them in. Keep them out of the build context with a .dockerignore entry (${roots.map((r) => `"**/${r.slice(r.lastIndexOf('/') + 1)}"`).join(', ')}), or COPY only what you need.`
        : `Deleting in a later layer does not shrink the image: the bytes stay in layer ${S}. Remove them in the same RUN that creates them, or create them in a separate stage and COPY only what you need (multi-stage build).`;
    const hint = g.largestRule;
    if (hint && hint.category !== 'temp' && hint.category !== 'log') remedy += ` ${hint.remedy}`;
    return { title: `layer ${E} deleted ${pathList(roots)} (${files} stored by layer ${S})`, remedy };
  }
  if (g.category === 'overwritten') {
    if (g.items.every((it) => it.reason === 'superseded')) {
      return {
        title: `layer ${S} stored the same path twice, only the last copy is visible: ${paths}`,
        remedy: 'The layer tar holds duplicate entries: fix the tool that wrote it, or rebuild the layer.',
      };
    }
    const title = `layer ${E} overwrote ${files} stored by layer ${S}: ${paths}`;
    return fromBase
      ? { title, remedy: `Each overwrite keeps the old copy in layer ${S}, which looks like the base image. For large files, choose a base image that already has what you need, or change them where the base is built.` }
      : { title, remedy: `Each overwrite keeps the old copy in layer ${S}. Produce the final version in one step: write it in the layer that creates it, or build it in a separate stage and COPY only the result (multi-stage build).` };
  }
  return copyAdvice(g, files, paths);
}

/** Files stored again with the same content (chmod/chown -R, touch, hardlink copy-up). */
function copyAdvice(g: WasteGroup, files: string, paths: string): Advice {
  const { stored: S, hiddenBy: E } = g;
  const bytesOf = (p: (it: WastedItem) => boolean) => g.items.filter(p).reduce((s, it) => s + it.bytes, 0);
  const linked = bytesOf((it) => !!it.viaHardlink);
  const meta = bytesOf((it) => it.reason === 'metadata' && !it.viaHardlink);
  const same = bytesOf((it) => it.reason === 'unchanged' && !it.viaHardlink);
  if (linked >= meta && linked >= same) {
    return {
      title: `layer ${E} made hardlinks to ${files} of layer ${S}, copying the content up whole: ${paths}`,
      remedy: 'A hardlink to a file of a lower layer copies the whole file into the new layer. Create the link in the same RUN that creates the file, or use a symlink.',
    };
  }
  if (same > meta && g.hiddenStep === 'copy') {
    return {
      title: `layer ${E} copied in ${files} identical to what layer ${S} stored: ${paths}`,
      remedy: `Copying the same files twice stores them twice. COPY them once: drop them from one of the COPY/ADD steps (layers ${S} and ${E}).`,
    };
  }
  if (same > meta) {
    return {
      title: `layer ${E} stored ${files} of layer ${S} again unchanged: ${paths}`,
      remedy: 'Touching a file of an earlier layer (touch, a tool rewriting it in place) stores it again whole. Avoid it, or do it in the same RUN that creates the file.',
    };
  }
  const title = `layer ${E} stored ${files} of layer ${S} again, changing only mode/owner: ${paths}`;
  if (g.storedStep === 'copy') return { title, remedy: `RUN chmod -R / chown -R in a later layer stores every file again. Set mode and owner while copying instead: ${g.copyFlags()} in layer ${S}.` };
  if (g.storedStep === 'run') return { title, remedy: `RUN chmod -R / chown -R in a later layer stores every file again. Do it in the same RUN that creates the files (layer ${S}), or use COPY --chown/--chmod.` };
  return { title, remedy: 'Changing mode or owner in a later layer stores every file again. Set them where the files are created: COPY --chown/--chmod, or the same RUN.' };
}

/** Toolchain and documentation findings (package-bloat.ts): the packages by name, the fix per package manager. */
export function packageAdvice(category: 'toolchain' | 'docs', layer: number, packages: string[], paths: string[], ecosystems: Set<string>): Advice {
  const n = paths.length;
  const names = pathList(packages);
  if (category === 'toolchain') {
    const fixes = [
      ecosystems.has('deb') && `apt-get purge -y --auto-remove ${packages.slice(0, 3).join(' ')}${packages.length > 3 ? ' …' : ''}`,
      ecosystems.has('apk') && 'apk add --virtual .build-deps … && … && apk del .build-deps',
      ecosystems.has('rpm') && 'dnf remove -y …',
    ].filter(Boolean);
    return {
      title: `Build toolchain in the final image, installed by layer ${layer}: ${plural(packages.length, 'package')} (${names}), ${plural(n, 'file')}`,
      remedy: `Compilers and headers are needed to build, not to run: build in a separate stage and COPY only the result (multi-stage build), or remove them in the same RUN that used them (${fixes.join('; ')}).`,
    };
  }
  const fixes = [
    ecosystems.has('deb') &&
      "dpkg: before installing, RUN printf 'path-exclude /usr/share/doc/*\\npath-include /usr/share/doc/*/copyright\\npath-exclude /usr/share/man/*\\npath-exclude /usr/share/info/*\\n' > /etc/dpkg/dpkg.cfg.d/01-nodoc (as Debian's slim images do)",
    ecosystems.has('rpm') && 'dnf/yum: install with --setopt=tsflags=nodocs',
    ecosystems.has('apk') && 'apk: the docs come in *-doc packages: do not install them',
  ].filter(Boolean);
  return {
    title: `${plural(n, 'documentation file')} (doc, man, info) installed by packages in layer ${layer}: ${names}`,
    remedy: `Keep package documentation out of the image: ${fixes.join('; ')}.`,
  };
}
